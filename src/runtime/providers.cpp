#include "providers.h"

#include "edgeperf/runtime/sparse.h"

namespace edgeperf::runtime {

// The provider list for the options: sparse first (it compares against the dense
// provider after it), then oneDNN, then the reference backend, which claims the rest.
std::vector<std::unique_ptr<Backend>> make_providers(const SessionOptions& options) {
  std::vector<std::unique_ptr<Backend>> providers;
  if (options.backend != BackendKind::reference) {
    std::unique_ptr<Backend> onednn = make_onednn_backend({options.own_int8_kernels});
    providers.push_back(make_sparse_backend(SparseOptions{options.sparse}, *onednn));
    providers.push_back(std::move(onednn));
  }
  providers.push_back(make_reference_backend());
  return providers;
}

}  // namespace edgeperf::runtime
