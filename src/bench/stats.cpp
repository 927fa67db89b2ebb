#include "edgeperf/bench/stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "edgeperf/core/error.h"

namespace edgeperf::bench {
namespace {

// Regularized incomplete beta I_x(a, b) by its continued fraction (modified Lentz),
// using the symmetry I_x(a,b) = 1 - I_{1-x}(b,a) where the fraction converges slowly.
double incomplete_beta(double x, double a, double b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  if (x > (a + 1) / (a + b + 2)) return 1 - incomplete_beta(1 - x, b, a);
  const double log_front = std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                           a * std::log(x) + b * std::log1p(-x);
  constexpr double kTiny = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  d = 1 / (std::abs(d) < kTiny ? kTiny : d);
  double fraction = d;
  for (int m = 1; m < 500; ++m) {
    for (int step = 0; step < 2; ++step) {
      const double numerator =
          step == 0 ? m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
                    : -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
      d = 1 + numerator * d;
      d = 1 / (std::abs(d) < kTiny ? kTiny : d);
      c = 1 + numerator / c;
      if (std::abs(c) < kTiny) c = kTiny;
      fraction *= c * d;
    }
    if (std::abs(c * d - 1) < 1e-15) break;
  }
  return std::exp(log_front) * fraction / a;
}

double student_t_cdf(double t, double degrees) {
  const double tail = 0.5 * incomplete_beta(degrees / (degrees + t * t), degrees / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

double normal_two_sided_p(double z) { return std::erfc(std::abs(z) / std::sqrt(2.0)); }

}  // namespace

double percentile(std::span<const double> sorted, double p) {
  EP_CHECK(!sorted.empty(), "percentile of an empty sample");
  EP_CHECK(p >= 0 && p <= 100, "percentile {} is outside [0, 100]", p);
  const double rank = p / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto low = static_cast<std::size_t>(std::floor(rank));
  const std::size_t high = std::min(low + 1, sorted.size() - 1);
  return sorted[low] + (sorted[high] - sorted[low]) * (rank - static_cast<double>(low));
}

double student_t_quantile(double probability, double degrees) {
  EP_CHECK(probability > 0 && probability < 1 && degrees > 0,
           "student_t_quantile({}, {}) is undefined", probability, degrees);
  if (probability < 0.5) return -student_t_quantile(1 - probability, degrees);
  double low = 0, high = 1;
  while (student_t_cdf(high, degrees) < probability) high *= 2;
  for (int i = 0; i < 200 && high - low > 1e-12 * high; ++i) {
    const double middle = (low + high) / 2;
    (student_t_cdf(middle, degrees) < probability ? low : high) = middle;
  }
  return (low + high) / 2;
}

Summary summarize(std::span<const double> sample) {
  EP_CHECK(!sample.empty(), "cannot summarize an empty sample");
  std::vector<double> sorted(sample.begin(), sample.end());
  for (double value : sorted) EP_CHECK(std::isfinite(value), "sample holds a non-finite value");
  std::sort(sorted.begin(), sorted.end());

  Summary s;
  s.n = sorted.size();
  s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(s.n);
  double squares = 0;
  for (double value : sorted) squares += (value - s.mean) * (value - s.mean);
  s.stddev = s.n > 1 ? std::sqrt(squares / static_cast<double>(s.n - 1)) : 0;
  s.min = sorted.front();
  s.max = sorted.back();
  s.median = s.p50 = percentile(sorted, 50);
  s.p90 = percentile(sorted, 90);
  s.p95 = percentile(sorted, 95);
  s.p99 = percentile(sorted, 99);
  const double half_width =
      s.n > 1 ? student_t_quantile(0.975, static_cast<double>(s.n - 1)) * s.stddev /
                    std::sqrt(static_cast<double>(s.n))
              : 0;
  s.ci95_low = s.mean - half_width;
  s.ci95_high = s.mean + half_width;
  s.cv = s.mean != 0 ? s.stddev / s.mean : 0;

  std::vector<double> deviations;
  for (double value : sorted) deviations.push_back(std::abs(value - s.median));
  std::sort(deviations.begin(), deviations.end());
  const double scaled_mad = 1.4826 * percentile(deviations, 50);
  for (double value : sorted) {
    s.outliers += scaled_mad > 0 ? std::abs(value - s.median) > 3 * scaled_mad : value != s.median;
  }
  return s;
}

MannWhitney mann_whitney_u(std::span<const double> first, std::span<const double> second) {
  EP_CHECK(!first.empty() && !second.empty(), "Mann-Whitney U needs two non-empty samples");
  const double n1 = static_cast<double>(first.size()), n2 = static_cast<double>(second.size());
  std::vector<std::pair<double, int>> pooled;
  for (double value : first) pooled.emplace_back(value, 0);
  for (double value : second) pooled.emplace_back(value, 1);
  std::sort(pooled.begin(), pooled.end());

  double rank_sum_first = 0, tie_term = 0;
  for (std::size_t i = 0; i < pooled.size();) {
    std::size_t j = i;
    while (j < pooled.size() && pooled[j].first == pooled[i].first) ++j;
    const double average_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    const double ties = static_cast<double>(j - i);
    tie_term += ties * ties * ties - ties;
    for (std::size_t k = i; k < j; ++k) {
      if (pooled[k].second == 0) rank_sum_first += average_rank;
    }
    i = j;
  }
  MannWhitney result;
  result.u = rank_sum_first - n1 * (n1 + 1) / 2;
  const double n = n1 + n2;
  const double mean_u = n1 * n2 / 2;
  const double variance = n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1)));
  if (variance <= 0) return result;  // every value equal: no evidence of a difference
  const double distance = std::max(std::abs(result.u - mean_u) - 0.5, 0.0);
  result.z = (result.u > mean_u ? distance : -distance) / std::sqrt(variance);
  result.p_value = std::min(1.0, normal_two_sided_p(result.z));
  return result;
}

}  // namespace edgeperf::bench
