// The oneDNN backend: maximal contiguous runs of supported nodes become regions
// (one step each) that keep oneDNN's blocked layouts between primitives.
#include <omp.h>

#include "dynamic_int8.h"
#include "edgeperf/runtime/backend.h"
#include "edgeperf/runtime/scoped_omp_threads.h"
#include "packed_constants.h"
#include "region.h"

namespace edgeperf::runtime {
namespace {

class OnednnBackend final : public Backend {
 public:
  explicit OnednnBackend(OnednnOptions options) : options_(options) {}
  std::string name() const override { return "onednn"; }
  // int8 weights are packed from the initializer a folded DequantizeLinear read.
  std::vector<std::string> folds_to_trace() const override { return {"DequantizeLinear"}; }

  std::vector<Step> lower(const LoweringInput& offered) override {
    const LoweringInput& input = offered;
    const ScopedOmpThreads threads(input.threads);
    std::vector<bool> taken(input.nodes.size(), false);
    std::vector<Step> steps = onednn::lower_dynamic_matmuls(input, taken);
    for (Step& step : onednn::lower_regions(input, taken, nullptr, {},
                                            {options_.own_int8_kernels, &packed_constants_}))
      steps.push_back(std::move(step));
    return steps;
  }

 private:
  OnednnOptions options_;
  // Packed weights shared by the plans of the session that owns this provider.
  onednn::PackedConstantCache packed_constants_;
};

}  // namespace

std::unique_ptr<Backend> make_onednn_backend(OnednnOptions options) {
  return std::make_unique<OnednnBackend>(options);
}

}  // namespace edgeperf::runtime
