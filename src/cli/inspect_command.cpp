// edgeperf inspect MODEL [--json]: what a model holds and what running it costs.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <optional>

#include "edgeperf/cli/commands.h"
#include "edgeperf/cli/session_flags.h"
#include "edgeperf/onnx/onnx_io.h"
#include "edgeperf/runtime/input_shapes.h"
#include "edgeperf/runtime/model_stats.h"

namespace edgeperf::cli {
namespace {

struct InspectOptions {
  std::string model;
  bool json = false;
  runtime::SessionOptions session;
};

nlohmann::json to_json(const graph::Graph& graph, const runtime::ModelStats* stats,
                       const std::vector<runtime::StepInfo>& steps,
                       const std::string& unsupported) {
  nlohmann::json out;
  out["model"] = graph.name;
  out["opset"] = graph.opset;
  std::map<std::string, int> histogram;
  for (const graph::Node& node : graph.nodes) ++histogram[node.op_type];
  out["op_histogram"] = histogram;
  out["parameters"] = graph.parameter_count();
  out["weight_bytes"] = graph.weight_bytes();
  out["unsupported"] = unsupported;
  for (const auto& input : graph.inputs) out["inputs"].push_back(input.to_string());
  for (const auto& output : graph.outputs) out["outputs"].push_back(output.to_string());
  if (stats) {
    out["macs"] = stats->macs;
    out["gmacs"] = static_cast<double>(stats->macs) / 1e9;
    out["planned_arena_bytes"] = stats->memory.arena_bytes;
    out["kernel_workspace_bytes"] = stats->memory.kernel_workspace_bytes;
    out["activation_bytes_total"] = stats->memory.activation_bytes_total;
    out["packed_weight_bytes"] = stats->memory.packed_weight_bytes;
    out["folded_constant_bytes"] = stats->memory.folded_constant_bytes;
    out["deferred_fold_bytes"] = stats->memory.deferred_fold_bytes;
    for (const auto& step : steps) {
      out["steps"].push_back({{"label", step.label}, {"backend", step.backend}, {"ops", step.ops}});
    }
  }
  return out;
}

void print_text(const nlohmann::json& report) {
  fmt::print("model        {} (opset {})\n", report["model"].get<std::string>(),
             report["opset"].get<std::int64_t>());
  for (const auto& input : report["inputs"])
    fmt::print("input        {}\n", input.get<std::string>());
  for (const auto& output : report["outputs"])
    fmt::print("output       {}\n", output.get<std::string>());
  fmt::print("parameters   {}\n", report["parameters"].get<std::int64_t>());
  fmt::print("weights      {:.2f} MB\n", report["weight_bytes"].get<double>() / 1e6);
  if (report.contains("macs_unavailable")) {
    fmt::print("MACs, arena  unavailable: {}\n", report["macs_unavailable"].get<std::string>());
  }
  for (const auto& note : report["shape_notes"])
    fmt::print("note         {}\n", note.get<std::string>());
  if (report.contains("macs")) {
    fmt::print("MACs         {:.3f} G\n", report["gmacs"].get<double>());
    fmt::print(
        "activations  {:.2f} MB planned arena + {:.2f} MB in fused steps (sum of all activations "
        "{:.2f} MB)\n",
        report["planned_arena_bytes"].get<double>() / 1e6,
        report["kernel_workspace_bytes"].get<double>() / 1e6,
        report["activation_bytes_total"].get<double>() / 1e6);
    std::map<std::string, int> per_backend;
    for (const auto& step : report["steps"]) ++per_backend[step["backend"].get<std::string>()];
    std::string backends;
    for (const auto& [name, count] : per_backend) backends += fmt::format(" {}={}", name, count);
    fmt::print("steps        {}:{}\n", report["steps"].size(), backends);
    for (const auto& step : report["steps"]) {
      if (step["backend"] == "sparse") fmt::print("  {}\n", step["label"].get<std::string>());
    }
  }
  fmt::print("ops         ");
  for (const auto& [op, count] : report["op_histogram"].items())
    fmt::print(" {}={}", op, count.get<int>());
  fmt::print("\n");
  const std::string unsupported = report["unsupported"].get<std::string>();
  fmt::print("unsupported  {}\n", unsupported.empty() ? "none" : unsupported);
}

void inspect(const InspectOptions& options) {
  graph::Graph graph = onnx_io::load_model(options.model);
  std::string unsupported;
  try {
    runtime::check_supported_ops(graph);
  } catch (const Error& error) {
    unsupported = error.what();
  }
  nlohmann::json report;
  std::optional<runtime::Session> session;
  if (unsupported.empty()) session.emplace(graph, options.session);
  if (session && !session->unbound_inputs()) {
    const runtime::ModelStats stats = runtime::model_stats(*session);
    report = to_json(session->graph(), &stats, session->steps(), unsupported);
  } else {
    report = to_json(graph, nullptr, {}, unsupported);
    if (session) report["macs_unavailable"] = *session->unbound_inputs();
  }
  report["shape_notes"] = runtime::bind_input_shapes(graph, options.session.input_shapes,
                                                     options.session.symbolic_dim_size)
                              .notes;
  if (options.json) {
    fmt::print("{}\n", report.dump(2));
  } else {
    print_text(report);
  }
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* command =
      app.add_subcommand("inspect", "Op histogram, parameters, MACs, memory plan, unsupported ops");
  command->add_option("model", options->model, "ONNX model file")->required();
  command->add_flag("--json", options->json, "Print JSON");
  add_session_flags(*command, options->session, {.onednn_kernels_only = false});
  command->callback([options] { inspect(*options); });
}

}  // namespace edgeperf::cli
