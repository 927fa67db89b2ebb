// Per-layer sensitivity scan and the choice of per-layer sparsities for a global target.
#include "edgeperf/prune/sensitivity.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "edgeperf/core/error.h"

namespace edgeperf::prune {
namespace {

struct Point {
  double sparsity = 0, loss = 0;
};

// One straight piece of a layer's lower convex hull: pruning from `from` to `to`.
struct Segment {
  std::size_t row = 0;
  Point from, to;
  double loss_per_weight = 0;
};

double cross(const Point& o, const Point& a, const Point& b) {
  return (a.sparsity - o.sparsity) * (b.loss - o.loss) -
         (a.loss - o.loss) * (b.sparsity - o.sparsity);
}

// Lower convex hull of (0, 0) and the row's (level, loss) points, by increasing sparsity.
std::vector<Point> lower_hull(const SensitivityRow& row, const std::vector<double>& levels) {
  std::vector<Point> points{{0.0, 0.0}};
  for (std::size_t i = 0; i < levels.size(); ++i) {
    points.push_back({levels[i], std::max(0.0, row.at_level[i].loss)});
  }
  std::sort(points.begin(), points.end(),
            [](const Point& a, const Point& b) { return a.sparsity < b.sparsity; });
  std::vector<Point> hull;
  for (const Point& point : points) {
    while (hull.size() >= 2 && cross(hull[hull.size() - 2], hull.back(), point) <= 0) {
      hull.pop_back();
    }
    hull.push_back(point);
  }
  return hull;
}

std::vector<Segment> hull_segments(const std::vector<SensitivityRow>& rows,
                                   const std::vector<double>& levels) {
  std::vector<Segment> segments;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const std::vector<Point> hull = lower_hull(rows[r], levels);
    for (std::size_t i = 1; i < hull.size(); ++i) {
      const double weights =
          (hull[i].sparsity - hull[i - 1].sparsity) * static_cast<double>(rows[r].params);
      segments.push_back({r, hull[i - 1], hull[i], (hull[i].loss - hull[i - 1].loss) / weights});
    }
  }
  // Within a row the hull's slopes increase, so this order also takes each row's
  // segments in sequence.
  std::stable_sort(segments.begin(), segments.end(), [](const Segment& a, const Segment& b) {
    return a.loss_per_weight < b.loss_per_weight;
  });
  return segments;
}

}  // namespace

double choose_layer_sparsities(std::vector<SensitivityRow>& rows, const std::vector<double>& levels,
                               double target) {
  double total = 0;
  for (SensitivityRow& row : rows) {
    EP_CHECK(row.at_level.size() == levels.size(),
             "sensitivity row '{}' has {} results for {} levels", row.node, row.at_level.size(),
             levels.size());
    total += static_cast<double>(row.params);
    row.chosen = 0;
  }
  double to_prune = target * total, loss = 0;
  for (const Segment& segment : hull_segments(rows, levels)) {
    if (to_prune <= 0) break;
    const double params = static_cast<double>(rows[segment.row].params);
    const double available = (segment.to.sparsity - segment.from.sparsity) * params;
    const double taken = std::min(available, to_prune);
    rows[segment.row].chosen = segment.from.sparsity + taken / params;
    loss += taken * segment.loss_per_weight;
    to_prune -= taken;
  }
  EP_CHECK(to_prune <= 1e-6 * total, "sensitivity: levels up to {} cannot reach sparsity {}",
           levels.empty() ? 0.0 : levels.back(), target);
  return loss;
}

std::map<std::string, double> SensitivityResult::chosen() const {
  std::map<std::string, double> ratios;
  for (const SensitivityRow& row : rows) ratios[row.node] = row.chosen;
  return ratios;
}

SensitivityResult sensitivity_scan(const graph::Graph& graph, const PruneOptions& options,
                                   const Evaluator& evaluate, const std::string& metric_name) {
  EP_CHECK(options.method == Method::magnitude, "--sensitivity works with --method magnitude");
  EP_CHECK(options.sparsity >= 0.0 && options.sparsity < 1.0, "sparsity {} is outside [0, 1)",
           options.sparsity);
  PruneOptions probe = options;
  probe.sparsity = 0;
  probe.layer_sparsity.clear();
  const PruneResult plan = prune_model(graph, probe);  // checks options, applies exclusions
  SensitivityResult result{metric_name, evaluate(graph),  kSensitivityLevels,
                           {},          options.sparsity, 0};
  if (options.sparsity > result.levels.back()) result.levels.push_back(options.sparsity);
  for (const LayerReport& report : plan.layers) {
    if (!report.pruned) continue;
    SensitivityRow row{report.layer.node, report.layer.params, {}, 0};
    for (double level : result.levels) {
      PruneOptions single = options;
      single.layer_sparsity = {{report.layer.node, level}};
      row.at_level.push_back(evaluate(prune_model(graph, single).model));
    }
    result.rows.push_back(std::move(row));
  }
  result.estimated_loss = choose_layer_sparsities(result.rows, result.levels, options.sparsity);
  return result;
}

}  // namespace edgeperf::prune
