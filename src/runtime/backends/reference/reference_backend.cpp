// The reference provider: every node it is offered becomes one step running the node's
// reference kernel. It is last in every provider list, so nothing is left unclaimed.
#include "edgeperf/runtime/backend.h"
#include "edgeperf/runtime/reference.h"

namespace edgeperf::runtime {
namespace {

Step reference_step(const PlannedNode& planned, std::size_t index, std::int64_t opset) {
  const graph::Node& node = *planned.node;
  PrepareContext context{node, planned.inputs, planned.constants, planned.outputs, {}, opset};
  Step step;
  step.kernel = with_error_context("node " + node.label(), [&] {
    const KernelRegistration* kernel = find_reference_kernel(node);
    EP_CHECK(kernel != nullptr, "no reference kernel for {}", registry_key(node));
    return kernel->create(context);
  });
  step.inputs = node.inputs;
  step.input_descs = planned.inputs;
  step.outputs = node.outputs;
  step.output_descs = planned.outputs;
  step.nodes = {index};
  step.backend = "reference";
  step.label = node.label();
  return step;
}

class ReferenceBackend final : public Backend {
 public:
  std::string name() const override { return "reference"; }

  std::vector<Step> lower(const LoweringInput& input) override {
    std::vector<Step> steps;
    for (std::size_t i = 0; i < input.nodes.size(); ++i) {
      steps.push_back(reference_step(input.nodes[i], i, input.opset));
    }
    return steps;
  }
};

}  // namespace

std::unique_ptr<Backend> make_reference_backend() { return std::make_unique<ReferenceBackend>(); }

}  // namespace edgeperf::runtime
