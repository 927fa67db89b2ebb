#pragma once
// Descriptive statistics for latency samples, kept apart from how they are measured
// and how they are reported.
//
// Percentiles use linear interpolation between closest ranks (Hyndman & Fan type 7,
// NumPy's default): p-th percentile = x[floor(h)] + (h - floor(h)) * (x[floor(h)+1] - x[floor(h)])
// with h = (n - 1) * p / 100 over the sorted sample.
#include <cstddef>
#include <span>
#include <string>

namespace edgeperf::bench {

inline constexpr const char* kPercentileDefinition =
    "linear interpolation between closest ranks (type 7, as NumPy): h = (n-1)p/100";

struct Summary {
  std::size_t n = 0;
  double mean = 0, stddev = 0;  // sample standard deviation (n - 1); 0 when n < 2
  double min = 0, max = 0, median = 0;
  double p50 = 0, p90 = 0, p95 = 0, p99 = 0;
  double ci95_low = 0, ci95_high = 0;  // Student-t 95% CI of the mean; equals mean when n < 2
  double cv = 0;                       // stddev / mean; 0 when mean is 0
  std::size_t outliers = 0;            // outside median +/- 3 * 1.4826 * MAD
};

// Throws Error on an empty sample or a non-finite value.
Summary summarize(std::span<const double> sample);

double percentile(std::span<const double> sorted, double p);

// Two-sided 1 - alpha quantile of Student's t with `degrees` degrees of freedom
// (e.g. student_t_quantile(0.975, 9) = 2.262).
double student_t_quantile(double probability, double degrees);

struct MannWhitney {
  double u = 0;        // U statistic of the first sample
  double z = 0;        // normal approximation with tie and continuity correction
  double p_value = 1;  // two-sided
};
// Mann-Whitney U test (normal approximation with tie correction; reliable for n >= 8 each).
MannWhitney mann_whitney_u(std::span<const double> first, std::span<const double> second);

}  // namespace edgeperf::bench
