#pragma once
// Graph initializers whose bytes no step reads at run time, given back to the OS.
//
// A backend that packs a large initializer into a layout of its own for its only reader
// would otherwise hold it twice: ViT-B/16's MatMul weights are 320 MB. The session lists
// the initializers it alone owns (its graph was moved in, not copied) that one node
// reads; a backend that packed one of them for that node may release it. Its whole pages
// go back to the OS (madvise), so until refilled they read as zeros, and `refill` writes
// the bytes back from the packed copy. Everything released is refilled before anything
// reads the graph's values again: the next plan's build, and a node, region or plan
// lowered again after a refusal.
#include <cstddef>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "edgeperf/core/tensor.h"
#include "edgeperf/graph/graph.h"

namespace edgeperf::runtime {

class InitializerReleases {
 public:
  // Writes the initializer's bytes (all of them) to `bytes`.
  using Refill = std::function<void(void* bytes)>;

  InitializerReleases() = default;
  explicit InitializerReleases(std::set<std::string> candidates);
  InitializerReleases(const InitializerReleases&) = delete;
  InitializerReleases& operator=(const InitializerReleases&) = delete;
  InitializerReleases(InitializerReleases&&) = default;
  InitializerReleases& operator=(InitializerReleases&&) = default;
  ~InitializerReleases() = default;  // refills nothing: the graph goes with its session

  // `name` is a candidate not released now.
  bool may_release(const std::string& name) const;
  // Gives back the whole pages of `tensor` (the candidate `name`); `refill` restores them.
  void release(const std::string& name, const Tensor& tensor, Refill refill);
  bool is_released(const std::string& name) const;

  // Entries are kept in release order: refill_from(n) refills those released after the
  // n-th and forgets them.
  std::size_t size() const { return entries_.size(); }
  void refill_from(std::size_t first);
  void refill_all() { refill_from(0); }
  void refill(const std::string& name);

  std::vector<std::string> released_names() const;
  std::size_t released_bytes() const;

 private:
  struct Entry {
    std::string name;
    void* bytes = nullptr;
    std::size_t size = 0;
    Refill refill;
  };
  std::set<std::string> candidates_;
  std::vector<Entry> entries_;
};

// The initializers of `graph` a backend may release: at least `min_bytes`, their bytes
// held by the graph alone (no other Tensor shares them), read by exactly one node input
// (subgraphs included), and neither a graph input (a feed may replace them) nor output.
std::set<std::string> releasable_initializers(const graph::Graph& graph, std::size_t min_bytes);

}  // namespace edgeperf::runtime
