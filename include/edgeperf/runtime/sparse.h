#pragma once
// The sparse backend: FC (Gemm, 2-D MatMul) and 1x1 Conv layers whose constant weight is
// mostly zeros run on CSR kernels of our own. In `automatic` mode each candidate is timed
// against the dense backend on its real shapes when the plan is built, and the faster wins.
#include <memory>
#include <string>
#include <vector>

#include "edgeperf/runtime/backend.h"

namespace edgeperf::runtime {

enum class SparseMode {
  automatic,  // candidates below max_density, sparse only where it measures faster
  off,        // never
  force,      // every layer the sparse kernels support, whatever its density
};
SparseMode parse_sparse_mode(const std::string& name);  // "auto" | "off" | "force"
std::string sparse_mode_name(SparseMode mode);

struct SparseOptions {
  SparseMode mode = SparseMode::automatic;
  double max_density = 0.5;  // automatic: only weights with fewer nonzeros are timed
  int timing_runs = 15;      // automatic: timed runs of each path (after warm-up)
  // automatic: the choice is timed on the layer with this many nodes either side, so
  // the cost of splitting the dense backend's region counts.
  int window_nodes = 6;
  // automatic: the window must be at least this fraction faster with the sparse step;
  // a split region also costs layouts beyond the window, and timing noise must never
  // decide a split.
  double min_window_gain = 0.05;
};

// The sparse provider: claims the layers it chooses and compares them against `dense`
// (the next provider of the list, which must outlive it).
std::unique_ptr<Backend> make_sparse_backend(const SparseOptions& options, Backend& dense);

// Lowers with the sparse backend first, then hands each contiguous run of the nodes it
// did not claim to `dense`. Steps use indices into input.nodes, as Backend::lower does.
std::vector<Step> lower_sparse_then(const LoweringInput& input, const SparseOptions& options,
                                    Backend& dense);

}  // namespace edgeperf::runtime
