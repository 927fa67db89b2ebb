#pragma once
// Graph optimization passes. Each pass rewrites a graph::Graph in place and returns a
// log with one entry per change (or per change it deliberately did not make, saying why).
// optimize() runs a list of passes in order; quantize/prune/ablate reuse it.
//
// Fusions emit ONNX Runtime's contrib ops in domain "com.microsoft" (FusedConv, FusedGemm),
// so the output stays standard, loadable ONNX; edgeperf's session expands them back
// (include/edgeperf/runtime/expand_fused_ops.h) and its oneDNN lowering re-fuses them.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "edgeperf/graph/graph.h"

namespace edgeperf::passes {

// portable: only what ONNX Runtime's CPU kernels run. edgeperf: also fusions only
// edgeperf runs (FusedConv/FusedGemm with activation "HardSwish").
enum class Target { portable, edgeperf };
Target parse_target(const std::string& name);  // "portable" | "edgeperf"
std::string target_name(Target target);

struct PassOptions {
  Target target = Target::portable;
  // Constant folding never materializes an output larger than this.
  std::size_t fold_limit_bytes = std::size_t{64} << 20;
};

struct LogEntry {
  std::string pass;
  std::string message;  // names the nodes and what happened, one line
  bool changed = true;  // false: a rewrite considered and skipped (the message says why)
};
using PassLog = std::vector<LogEntry>;

// Evaluates nodes whose inputs are all constant (initializers, Constant nodes, and Shape of
// statically shaped values, so Shape->Gather->Unsqueeze->Concat chains become initializers)
// with the reference kernels. Outputs above fold_limit_bytes are left to the runtime.
PassLog fold_constants(graph::Graph& graph, const PassOptions& options);
// Removes Identity, and Dropout in inference mode, rewiring consumers; graph outputs keep
// their names.
PassLog remove_identities(graph::Graph& graph, const PassOptions& options);
// Folds BatchNormalization into the preceding Conv (any group count) or Gemm when the
// Conv/Gemm output feeds nothing else.
PassLog fold_batch_norms(graph::Graph& graph, const PassOptions& options);
// Conv[+Add]+activation and Conv+Add -> com.microsoft.FusedConv (the Add's other input
// becomes the sum input Z), Gemm+activation -> com.microsoft.FusedGemm.
PassLog fuse_activations(graph::Graph& graph, const PassOptions& options);
// Removes nodes no graph output depends on and initializers nothing reads.
PassLog eliminate_dead_code(graph::Graph& graph, const PassOptions& options);

using PassFn = PassLog (*)(graph::Graph&, const PassOptions&);
struct PassInfo {
  std::string_view name;
  std::string_view summary;
  PassFn run;
};
// Every pass, in the default order.
std::span<const PassInfo> all_passes();
// Throws Error naming the unknown pass and listing the known ones.
const PassInfo& find_pass(std::string_view name);

struct OptimizeOptions {
  std::vector<std::string> passes;  // empty: every pass in the default order
  Target target = Target::portable;
  std::size_t fold_limit_bytes = std::size_t{64} << 20;
};

struct PassSummary {
  std::string name;
  std::size_t changes = 0;
  std::size_t skipped = 0;
};

struct OptimizeResult {
  graph::Graph graph;
  PassLog log;
  std::vector<PassSummary> passes;  // in the order they ran
  std::size_t nodes_before = 0;
  std::size_t nodes_after = 0;
  std::size_t initializers_before = 0;
  std::size_t initializers_after = 0;
};

// Validates the graph, runs the passes and validates the result.
OptimizeResult optimize(graph::Graph graph, const OptimizeOptions& options = {});

// The passes that keep every op quantizable (no activation fusion into
// com.microsoft.FusedConv/FusedGemm): constants folded, Identity/Dropout removed, BatchNorm
// folded into Conv/Gemm, dead code removed. What `quantize` and `qat` run first; each
// change is appended to `log` as "[pass] message".
graph::Graph optimized_for_quantization(graph::Graph model, std::vector<std::string>& log);

// The log, one line per entry ("[pass] message"), then the summary.
std::string format_report(const OptimizeResult& result);

}  // namespace edgeperf::passes
