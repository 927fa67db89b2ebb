// Range selection from a value's histogram: minmax, percentile, entropy (KL) and MSE.
//
// The histogram covers [-M, M]. Symmetric types use the folded histogram of |x|. An
// asymmetric type on one-signed data uses that side alone with all 256 levels; on data
// of both signs it also uses |x| (a symmetric threshold then clipped to the observed
// min/max), which keeps the search one-dimensional.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

#include "edgeperf/core/error.h"
#include "edgeperf/quant/calibration.h"

namespace edgeperf::quant {
namespace {

enum class Side { folded, positive, negative };

// Counts of |x| (or of one side) in bins of equal width starting at 0.
struct Magnitudes {
  std::vector<double> counts;
  double bin_width = 0.0;
};

Magnitudes magnitudes(const ValueStatistics& stats, Side side) {
  const std::vector<double>& histogram = stats.histogram();
  const std::size_t half = histogram.size() / 2;
  Magnitudes result;
  result.counts.resize(half);
  result.bin_width = static_cast<double>(stats.histogram_max_abs()) / static_cast<double>(half);
  for (std::size_t k = 0; k < half; ++k) {
    const double positive = histogram[half + k];
    const double negative = histogram[half - 1 - k];
    result.counts[k] = side == Side::folded     ? positive + negative
                       : side == Side::positive ? positive
                                                : negative;
  }
  return result;
}

// Value below which `fraction` of the histogram's mass lies, interpolated inside a bin.
// Bin j covers [origin + j * width, origin + (j + 1) * width].
double quantile(const std::vector<double>& counts, double origin, double width, double fraction) {
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  const double target = fraction * total;
  double below = 0.0;
  for (std::size_t j = 0; j < counts.size(); ++j) {
    if (counts[j] > 0.0 && below + counts[j] >= target) {
      const double inside = std::clamp((target - below) / counts[j], 0.0, 1.0);
      return origin + (static_cast<double>(j) + inside) * width;
    }
    below += counts[j];
  }
  return origin + static_cast<double>(counts.size()) * width;
}

// KL(P || Q) for each candidate threshold, TensorRT style. P: the first `kept` bins with
// the clipped tail added to the last one. Q: those bins merged into `levels` groups, each
// group's mass spread evenly over its nonzero bins. Where P > 0 but Q = 0 (only the last
// bin, when it holds only clipped outliers) Q gets a small mass so KL stays finite.
// Prefix sums make one candidate cost O(levels):
//   KL = (sum p log p - sum p log q) / P_total + log(Q_total / P_total).
class KlSearch {
 public:
  explicit KlSearch(const std::vector<double>& counts) : counts_(counts) {
    mass_.assign(counts.size() + 1, 0.0);
    nonzero_.assign(counts.size() + 1, 0.0);
    p_log_p_.assign(counts.size() + 1, 0.0);
    for (std::size_t j = 0; j < counts.size(); ++j) {
      const double c = counts[j];
      mass_[j + 1] = mass_[j] + c;
      nonzero_[j + 1] = nonzero_[j] + (c > 0.0 ? 1.0 : 0.0);
      p_log_p_[j + 1] = p_log_p_[j] + (c > 0.0 ? c * std::log(c) : 0.0);
    }
  }

  double divergence(std::size_t kept, std::size_t levels) const {
    constexpr double kSmoothing = 1e-4;
    const double total = mass_.back();
    const double tail = total - mass_[kept];
    const double last = counts_[kept - 1];
    const double p_last = last + tail;
    const double p_log_p = p_log_p_[kept - 1] + (p_last > 0.0 ? p_last * std::log(p_last) : 0.0);
    double p_log_q = 0.0;
    double q_last = 0.0;
    for (std::size_t level = 0; level < levels; ++level) {
      const std::size_t begin = level * kept / levels;
      const std::size_t end = (level + 1) * kept / levels;
      const double nonzero = nonzero_[end] - nonzero_[begin];
      if (nonzero == 0.0) continue;
      const double mass = mass_[end] - mass_[begin];
      const double q = mass / nonzero;
      p_log_q += mass * std::log(q);
      if (end == kept) q_last = q;
    }
    double q_total = mass_[kept];
    if (tail > 0.0) {
      if (last == 0.0) {
        q_last = kSmoothing * total;
        q_total += q_last;
      }
      p_log_q += tail * std::log(q_last);
    }
    return (p_log_p - p_log_q) / total + std::log(q_total / total);
  }

 private:
  const std::vector<double>& counts_;
  std::vector<double> mass_;     // [k]: mass of bins below k
  std::vector<double> nonzero_;  // [k]: nonzero bins below k
  std::vector<double> p_log_p_;  // [k]: sum of c log c over bins below k
};

// Threshold (a bin edge) minimizing KL(P || Q) over the bins kept.
double entropy_threshold(const Magnitudes& m, std::size_t levels) {
  const std::size_t bins = m.counts.size();
  if (bins <= levels) return static_cast<double>(bins) * m.bin_width;
  const KlSearch search(m.counts);
  double best_kl = std::numeric_limits<double>::infinity();
  std::size_t best_kept = bins;
  double below = std::accumulate(m.counts.begin(),
                                 m.counts.begin() + static_cast<std::ptrdiff_t>(levels - 1), 0.0);
  for (std::size_t kept = levels; kept <= bins; ++kept) {
    below += m.counts[kept - 1];
    if (below <= 0.0) continue;  // nothing below the threshold
    const double kl = search.divergence(kept, levels);
    if (kl < best_kl) {
      best_kl = kl;
      best_kept = kept;
    }
  }
  return static_cast<double>(best_kept) * m.bin_width;
}

// Threshold (a bin edge) minimizing the expected squared error: rounding noise step^2/12
// for values inside, (|x| - T)^2 for clipped ones (at bin centers).
template <typename StepFn>
double mse_threshold(const Magnitudes& m, StepFn step_for_threshold) {
  const std::size_t bins = m.counts.size();
  // Suffix sums of c, c*x and c*x^2 over bin centers x give each candidate's clipping
  // error sum c (x - T)^2 in constant time.
  std::vector<double> tail_count(bins + 1, 0.0);
  std::vector<double> tail_first(bins + 1, 0.0);
  std::vector<double> tail_second(bins + 1, 0.0);
  for (std::size_t j = bins; j-- > 0;) {
    const double center = (static_cast<double>(j) + 0.5) * m.bin_width;
    tail_count[j] = tail_count[j + 1] + m.counts[j];
    tail_first[j] = tail_first[j + 1] + m.counts[j] * center;
    tail_second[j] = tail_second[j + 1] + m.counts[j] * center * center;
  }
  double best_error = std::numeric_limits<double>::infinity();
  double best = static_cast<double>(bins) * m.bin_width;
  for (std::size_t kept = 1; kept <= bins; ++kept) {
    const double threshold = static_cast<double>(kept) * m.bin_width;
    const double step = step_for_threshold(threshold);
    const double inside = tail_count[0] - tail_count[kept];
    const double clipped = tail_second[kept] - 2.0 * threshold * tail_first[kept] +
                           threshold * threshold * tail_count[kept];
    const double error = inside * step * step / 12.0 + std::max(clipped, 0.0);
    if (error < best_error) {
      best_error = error;
      best = threshold;
    }
  }
  return best;
}

Side side_for(QuantType type, float low, float high) {
  if (type == QuantType::int8_sym) return Side::folded;
  if (low >= 0.0F) return Side::positive;
  if (high <= 0.0F) return Side::negative;
  return Side::folded;
}

Range clip_to_threshold(double threshold, Side side, float low, float high) {
  const float t = static_cast<float>(threshold);
  switch (side) {
    case Side::positive:
      return {0.0F, std::min(high, t)};
    case Side::negative:
      return {std::max(low, -t), 0.0F};
    case Side::folded:
      break;
  }
  return {std::max(low, -t), std::min(high, t)};
}

Range percentile_range(const ValueStatistics& stats, double percentile, QuantType type, float low,
                       float high) {
  const double fraction = percentile / 100.0;
  if (type == QuantType::int8_sym) {
    const Magnitudes m = magnitudes(stats, Side::folded);
    return clip_to_threshold(quantile(m.counts, 0.0, m.bin_width, fraction), Side::folded, low,
                             high);
  }
  const double max_abs = stats.histogram_max_abs();
  const double width = 2.0 * max_abs / static_cast<double>(stats.histogram().size());
  const double lower = quantile(stats.histogram(), -max_abs, width, 1.0 - fraction);
  const double upper = quantile(stats.histogram(), -max_abs, width, fraction);
  return {std::clamp(static_cast<float>(lower), low, 0.0F),
          std::clamp(static_cast<float>(upper), 0.0F, high)};
}

}  // namespace

Range choose_range(const ValueStatistics& stats, const MethodSpec& method, QuantType type) {
  EP_CHECK(stats.count() > 0, "choose_range: no values were observed");
  const float low = std::min(stats.min(), 0.0F);
  const float high = std::max(stats.max(), 0.0F);
  if (method.method == CalibrationMethod::minmax || stats.histogram_max_abs() == 0.0F) {
    return {low, high};
  }
  if (method.method == CalibrationMethod::percentile) {
    EP_CHECK(method.percentile > 50.0 && method.percentile <= 100.0,
             "percentile {} is outside (50, 100]", method.percentile);
    return percentile_range(stats, method.percentile, type, low, high);
  }
  const Side side = side_for(type, low, high);
  const bool one_sided = side != Side::folded;
  const Magnitudes m = magnitudes(stats, side);
  if (method.method == CalibrationMethod::entropy) {
    return clip_to_threshold(entropy_threshold(m, one_sided ? 256 : 128), side, low, high);
  }
  const auto step = [&](double threshold) {
    const Range range = clip_to_threshold(threshold, side, low, high);
    if (type == QuantType::int8_sym) {
      return std::max(std::fabs(static_cast<double>(range.min)), static_cast<double>(range.max)) /
             127.0;
    }
    return (static_cast<double>(range.max) - range.min) / 255.0;
  };
  return clip_to_threshold(mse_threshold(m, step), side, low, high);
}

}  // namespace edgeperf::quant
