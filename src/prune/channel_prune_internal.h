#pragma once
// Private to channel pruning: the channel dependency analysis (channel_prune_analysis.cpp)
// and the data it hands to the graph surgery (channel_prune.cpp).
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "edgeperf/graph/graph.h"
#include "edgeperf/runtime/kernel.h"

namespace edgeperf::prune::channel_detail {

// A run of `channels` consecutive channels that all belong to one channel group.
struct Segment {
  int group = 0;
  std::int64_t channels = 0;
};

// How the channel axis (axis 1) of a value is made of groups' channels. After a Flatten
// of [N, C, H, W], each channel spans `inner` = H * W consecutive elements of axis 1.
struct Layout {
  std::vector<Segment> segments;
  std::int64_t inner = 1;

  std::int64_t channels() const;
};

// Channels that must keep the same channel set: the output channels of `producers`
// (prunable Conv/Gemm layers) and every channel tied to them by an element-wise op.
struct ChannelGroup {
  std::int64_t channels = 0;
  std::vector<std::size_t> producers;  // node indices
  std::string kept_reason;             // non-empty: every channel must stay
};

// Union-find over channel groups.
class GroupSet {
 public:
  int add(std::int64_t channels);
  int find(int group) const;
  // Merges two groups; groups of different sizes cannot share a mask, so both are kept.
  void unite(int a, int b, const std::string& reason_if_mismatched);
  void keep(int group, const std::string& reason);
  void add_producer(int group, std::size_t node);
  const ChannelGroup& root(int group) const {
    return groups_[static_cast<std::size_t>(find(group))];
  }
  std::vector<int> roots() const;

 private:
  std::vector<int> parent_;
  std::vector<ChannelGroup> groups_;
};

enum class EditKind {
  slice,        // keep the layout's channels along `axis` of initializer input `input`
  group_attr,   // set the node's "group" attribute to the layout's kept channel count
  reshape_dim,  // set entry 1 of the Reshape target shape (input 1) to the kept width
};

struct Edit {
  EditKind kind = EditKind::slice;
  std::size_t node = 0;
  std::size_t input = 0;
  std::int64_t axis = 0;
  Layout layout;
};

struct Analysis {
  GroupSet groups;
  std::vector<Edit> edits;
  std::map<std::string, Layout> layouts;  // channel layout of every value that has one
};

using ValueDescs = std::map<std::string, runtime::TensorDesc>;

// Walks the topologically sorted graph and records channel groups, the groups that must
// be kept, and the tensor edits pruning implies. `exclude` names nodes whose output
// channels are kept.
Analysis analyze_channels(const graph::Graph& graph, const ValueDescs& descs,
                          const std::set<std::string>& exclude);

}  // namespace edgeperf::prune::channel_detail
