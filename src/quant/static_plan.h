#pragma once
// Internal to ep_quant: which values a static quantization quantizes, with which
// parameters. Shared by the QDQ and QOperator emitters.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "rewrite.h"

namespace edgeperf::quant::detail {

struct StaticPlan {
  std::vector<WeightedNode> targets;
  std::map<std::size_t, std::size_t> fused_relu;  // target node index -> Relu node index
  std::set<std::size_t> relus_fused;              // the Relu node indices dropped
  std::set<std::size_t> passthrough;              // ops run between Q/DQ pairs (MaxPool, ...)
  // Quantized value -> the value whose calibrated range gives its parameters.
  std::map<std::string, std::string> quantized;
  std::map<std::string, QuantParams> params;  // filled after calibration, per quantized value
  // Mean per channel of each target's input (for bias correction), after calibration.
  std::map<std::string, std::vector<double>> input_means;

  bool is_target(std::size_t index) const;
  const WeightedNode* target(std::size_t index) const;
  // The value a target writes: its own output, or the output of the Relu fused into it.
  std::string target_output(const graph::Graph& graph, std::size_t index) const;
};

StaticPlan plan_static(const graph::Graph& model, const QuantizeOptions& options);
// Calibrates the values whose parameters are their own and fills plan.params.
void calibrate_plan(const graph::Graph& model, const QuantizeOptions& options,
                    SampleSource& calibration, StaticPlan& plan, std::vector<std::string>& log);

// Report rows for every weighted op: int8 for targets, fp32 with the reason otherwise.
std::vector<LayerReport> static_layer_rows(const graph::Graph& model, const StaticPlan& plan,
                                           const QuantizeOptions& options);

graph::Graph emit_qdq(const graph::Graph& model, const QuantizeOptions& options,
                      const StaticPlan& plan, RewriteOutput& output);
graph::Graph emit_qoperator(const graph::Graph& model, const QuantizeOptions& options,
                            const StaticPlan& plan, RewriteOutput& output);

}  // namespace edgeperf::quant::detail
