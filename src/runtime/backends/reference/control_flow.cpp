// If (opsets 1, 11, 13, 16, 19, 21): runs then_branch or else_branch by a boolean
// condition. Which branch, and so the output shapes, is known only once the condition
// is, so infer() runs the branch itself when every input is known and otherwise leaves
// the node to the session's interpreter.
#include "edgeperf/runtime/reference.h"
#include "ops.h"
#include "util.h"

namespace edgeperf::runtime::reference {

void infer_if(PrepareContext& context) {
  const graph::Node& node = context.node;
  const std::vector<std::string> captures = node.captures();
  const std::size_t own_inputs = node.inputs.size() - captures.size();
  EP_CHECK(own_inputs == 1 && context.has_input(0), "node {}: If takes one input, the condition",
           node.label());
  require_all_constant(context, "the branch taken depends on the condition, known at run time");
  const Tensor& condition = *context.constant(0);
  EP_CHECK(condition.numel() == 1, "node {}: the condition has {} elements, expected 1",
           node.label(), condition.numel());
  const std::vector<std::int64_t> flag = condition.to_int64s();
  const char* branch = flag[0] != 0 ? "then_branch" : "else_branch";
  std::map<std::string, Tensor> scope;
  for (std::size_t i = 0; i < captures.size(); ++i) {
    scope[captures[i]] = *context.constant(own_inputs + i);
  }
  std::vector<Tensor> outputs = with_error_context(fmt::format("{}", branch), [&] {
    return evaluate_subgraph(node.attr_graph(branch), context.opset, scope);
  });
  EP_CHECK(outputs.size() == node.outputs.size(), "node {}: {} gives {} outputs, the node has {}",
           node.label(), branch, outputs.size(), node.outputs.size());
  context.outputs.clear();
  context.output_values.clear();
  for (Tensor& output : outputs) {
    context.outputs.push_back(TensorDesc{output.dtype(), output.shape()});
    context.output_values.emplace_back(std::move(output));
  }
}

std::unique_ptr<Kernel> create_if(const PrepareContext& context) {
  fail("internal: node {} reached create(); its infer() gives its outputs", context.node.label());
}

}  // namespace edgeperf::runtime::reference
