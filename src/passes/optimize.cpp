// The pass table, optimize() and its report.
#include <fmt/format.h>

#include <array>

#include "edgeperf/core/enum_names.h"
#include "edgeperf/core/error.h"
#include "edgeperf/passes/passes.h"

namespace edgeperf::passes {
namespace {

constexpr std::array kPasses{
    PassInfo{"fold-constants", "evaluate constant subgraphs (incl. static Shape chains)",
             fold_constants},
    PassInfo{"remove-identity", "remove Identity and inference-mode Dropout", remove_identities},
    PassInfo{"fold-batchnorm", "fold BatchNormalization into the preceding Conv/Gemm",
             fold_batch_norms},
    PassInfo{"fuse-activation", "Conv[+Add][+act], Gemm+act -> com.microsoft.FusedConv/FusedGemm",
             fuse_activations},
    PassInfo{"dce", "remove nodes and initializers no output depends on", eliminate_dead_code},
};

constexpr auto kTargets =
    enum_names<Target>("target", {{Target::portable, "portable"}, {Target::edgeperf, "edgeperf"}});

std::string known_pass_names() {
  std::string names;
  for (const PassInfo& pass : kPasses)
    names += (names.empty() ? "" : ", ") + std::string(pass.name);
  return names;
}

}  // namespace

Target parse_target(const std::string& name) { return kTargets.parse(name); }

std::string target_name(Target target) { return std::string(kTargets.name(target)); }

std::span<const PassInfo> all_passes() { return kPasses; }

const PassInfo& find_pass(std::string_view name) {
  for (const PassInfo& pass : kPasses) {
    if (pass.name == name) return pass;
  }
  fail("unknown pass '{}' (known passes: {})", name, known_pass_names());
}

OptimizeResult optimize(graph::Graph graph, const OptimizeOptions& options) {
  std::vector<const PassInfo*> selected;
  for (const std::string& name : options.passes) selected.push_back(&find_pass(name));
  if (options.passes.empty()) {
    for (const PassInfo& pass : kPasses) selected.push_back(&pass);
  }
  graph::validate(graph);
  OptimizeResult result;
  result.nodes_before = graph.nodes.size();
  result.initializers_before = graph.initializers.size();
  const PassOptions pass_options{options.target, options.fold_limit_bytes};
  for (const PassInfo* pass : selected) {
    PassLog log = with_error_context(fmt::format("pass {}", pass->name),
                                     [&] { return pass->run(graph, pass_options); });
    PassSummary summary{std::string(pass->name), 0, 0};
    for (LogEntry& entry : log) {
      ++(entry.changed ? summary.changes : summary.skipped);
      result.log.push_back(std::move(entry));
    }
    result.passes.push_back(std::move(summary));
  }
  with_error_context("optimized graph", [&] { graph::validate(graph); });
  result.nodes_after = graph.nodes.size();
  result.initializers_after = graph.initializers.size();
  result.graph = std::move(graph);
  return result;
}

std::string format_report(const OptimizeResult& result) {
  std::string text;
  for (const LogEntry& entry : result.log) {
    text += fmt::format("[{}] {}\n", entry.pass, entry.message);
  }
  text += fmt::format("nodes {} -> {}, initializers {} -> {}\n", result.nodes_before,
                      result.nodes_after, result.initializers_before, result.initializers_after);
  for (const PassSummary& pass : result.passes) {
    text += fmt::format("  {:<16} {:>5} changes{}\n", pass.name, pass.changes,
                        pass.skipped ? fmt::format(", {} skipped (see log)", pass.skipped) : "");
  }
  return text;
}

graph::Graph optimized_for_quantization(graph::Graph model, std::vector<std::string>& log) {
  OptimizeOptions options;
  options.passes = {"fold-constants", "remove-identity", "fold-batchnorm", "dce"};
  OptimizeResult optimized = optimize(std::move(model), options);
  for (const LogEntry& entry : optimized.log) {
    if (entry.changed) log.push_back(fmt::format("[{}] {}", entry.pass, entry.message));
  }
  return std::move(optimized.graph);
}

}  // namespace edgeperf::passes
