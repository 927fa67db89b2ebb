// The oneDNN backend: maximal contiguous runs of supported nodes become regions
// (one step each) that keep oneDNN's blocked layouts between primitives.
#include <omp.h>

#include "dynamic_int8.h"
#include "edgeperf/runtime/backend.h"
#include "region.h"

namespace edgeperf::runtime {
namespace {

// oneDNN sizes scratchpads and splits work for the thread count current when a
// primitive is created, so primitives are created under the count they will run with.
class ScopedOmpThreads {
 public:
  explicit ScopedOmpThreads(int threads) : previous_(omp_get_max_threads()) {
    if (threads > 0) omp_set_num_threads(threads);
  }
  ~ScopedOmpThreads() { omp_set_num_threads(previous_); }
  ScopedOmpThreads(const ScopedOmpThreads&) = delete;
  ScopedOmpThreads& operator=(const ScopedOmpThreads&) = delete;

 private:
  int previous_;
};

class OnednnBackend final : public Backend {
 public:
  explicit OnednnBackend(OnednnOptions options) : options_(options) {}
  std::string name() const override { return "onednn"; }

  std::vector<Step> lower(const LoweringInput& offered) override {
    LoweringInput input = offered;
    input.own_int8_kernels = options_.own_int8_kernels;
    const ScopedOmpThreads threads(input.threads);
    std::vector<bool> taken(input.nodes.size(), false);
    std::vector<Step> steps = onednn::lower_dynamic_matmuls(input, taken);
    for (Step& step : onednn::lower_regions(input, taken)) steps.push_back(std::move(step));
    return steps;
  }

 private:
  OnednnOptions options_;
};

}  // namespace

std::unique_ptr<Backend> make_onednn_backend(OnednnOptions options) {
  return std::make_unique<OnednnBackend>(options);
}

}  // namespace edgeperf::runtime
