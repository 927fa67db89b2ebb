// 2:4 semi-structured sparsity: at most 2 nonzeros in every group of 4 consecutive weights
// along the reduction (input-channel) axis.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "edgeperf/core/error.h"
#include "edgeperf/prune/prune.h"

namespace edgeperf::prune {
namespace {

constexpr std::int64_t kGroup = 4;
constexpr int kKept = 2;

// The weight seen as [outer, axis, inner]; a group is 4 steps of `inner` along the axis.
struct GroupLayout {
  std::int64_t outer = 1, axis = 1, inner = 1;
  std::int64_t groups() const { return outer * (axis / kGroup) * inner; }
  // Flat index of the first weight of group `g` (groups in row-major order of
  // (outer, axis / 4, inner)).
  std::int64_t first_index(std::int64_t g) const {
    const std::int64_t i = g % inner;
    const std::int64_t block = (g / inner) % (axis / kGroup);
    const std::int64_t o = g / inner / (axis / kGroup);
    return (o * axis + block * kGroup) * inner + i;
  }
};

GroupLayout group_layout(const Tensor& weight, std::int64_t reduction_axis) {
  EP_CHECK(reduction_axis >= 0 && reduction_axis < weight.rank(),
           "2:4: axis {} is outside a weight of rank {}", reduction_axis, weight.rank());
  GroupLayout layout;
  layout.axis = weight.dim(reduction_axis);
  EP_CHECK(layout.axis % kGroup == 0,
           "2:4: axis {} of a weight shaped {} has {} elements, not a multiple of 4",
           reduction_axis, shape_to_string(weight.shape()), layout.axis);
  for (std::int64_t d = 0; d < reduction_axis; ++d) layout.outer *= weight.dim(d);
  for (std::int64_t d = reduction_axis + 1; d < weight.rank(); ++d) layout.inner *= weight.dim(d);
  return layout;
}

}  // namespace

void prune_two_four(Tensor& weight, std::int64_t reduction_axis) {
  const GroupLayout layout = group_layout(weight, reduction_axis);
  float* values = weight.data<float>();
  std::array<std::int64_t, kGroup> order{};
  for (std::int64_t g = 0; g < layout.groups(); ++g) {
    const std::int64_t first = layout.first_index(g);
    for (std::int64_t k = 0; k < kGroup; ++k) order[k] = first + k * layout.inner;
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t a, std::int64_t b) {
      return std::fabs(values[a]) > std::fabs(values[b]);
    });
    for (std::int64_t k = kKept; k < kGroup; ++k) values[order[k]] = 0.0f;
  }
}

std::string MaskViolation::to_string() const {
  return fmt::format("group {} (flat indices {}, {}, {}, {}) has {} nonzeros; 2:4 allows {}", group,
                     first_index, first_index + stride, first_index + 2 * stride,
                     first_index + 3 * stride, nonzeros, kKept);
}

std::optional<MaskViolation> find_two_four_violation(const Tensor& weight,
                                                     std::int64_t reduction_axis) {
  const GroupLayout layout = group_layout(weight, reduction_axis);
  const float* values = weight.data<float>();
  for (std::int64_t g = 0; g < layout.groups(); ++g) {
    const std::int64_t first = layout.first_index(g);
    int nonzeros = 0;
    for (std::int64_t k = 0; k < kGroup; ++k) nonzeros += values[first + k * layout.inner] != 0.0f;
    if (nonzeros > kKept) return MaskViolation{g, first, layout.inner, nonzeros};
  }
  return std::nullopt;
}

void validate_two_four(const graph::Graph& graph, const std::vector<PrunableLayer>& layers) {
  for (const PrunableLayer& layer : layers) {
    EP_CHECK(graph.initializers.count(layer.weight) != 0,
             "2:4 check: layer '{}' has no weight '{}'", layer.node, layer.weight);
    const auto violation = with_error_context("layer '" + layer.node + "'", [&] {
      return find_two_four_violation(float_weight(graph, layer), layer.reduction_axis);
    });
    EP_CHECK(!violation, "2:4 check: layer '{}' weight '{}': {}", layer.node, layer.weight,
             violation->to_string());
  }
}

}  // namespace edgeperf::prune
