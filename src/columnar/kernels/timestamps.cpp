// Kernels over timestamp columns: sortedness check, as-of alignment, resampling.
#include <algorithm>
#include <limits>

#include "edgeperf/columnar/kernels.h"
#include "edgeperf/core/error.h"
#include "kernel_util.h"

namespace edgeperf::columnar {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kMinRowsPerThread = std::size_t{1} << 16;
constexpr std::uint64_t kMaxBuckets = std::uint64_t{1} << 28;

// floor(a / b) for b > 0.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

// Unsigned distance a - b for a >= b, without signed overflow.
std::uint64_t distance(std::int64_t a, std::int64_t b) {
  return static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b);
}

}  // namespace

void check_sorted(std::span<const std::int64_t> ts, const char* what) {
  const std::size_t n = ts.size();
  std::size_t first_bad = n;
  const int team = detail::threads_for(n, 0, kMinRowsPerThread);
#pragma omp parallel for num_threads(team) reduction(min : first_bad) if (team > 1)
  for (std::size_t i = 1; i < n; ++i) {
    if (ts[i] < ts[i - 1] && i < first_bad) first_bad = i;
  }
  if (first_bad < n) {
    fail("{}: timestamps not sorted ascending at row {} ({} after {})", what, first_bad,
         ts[first_bad], ts[first_bad - 1]);
  }
}

void asof_indices(std::span<const std::int64_t> left_ts, std::span<const std::int64_t> right_ts,
                  std::span<std::int64_t> out, std::optional<std::int64_t> tolerance, int threads) {
  EP_CHECK(out.size() == left_ts.size(), "asof: output has {} rows, left has {}", out.size(),
           left_ts.size());
  EP_CHECK(!tolerance || *tolerance >= 0, "asof: tolerance must be >= 0, got {}",
           tolerance.value_or(0));
  check_sorted(left_ts, "asof left");
  check_sorted(right_ts, "asof right");
  const std::size_t n = left_ts.size();
  const std::size_t m = right_ts.size();
  const int team = detail::threads_for(n, threads, kMinRowsPerThread);
#pragma omp parallel num_threads(team) if (team > 1)
  {
    const auto [begin, end] = detail::split_range(n, omp_get_num_threads(), omp_get_thread_num());
    if (begin < end) {
      // j = number of right rows with ts <= current left ts.
      auto j = static_cast<std::size_t>(
          std::upper_bound(right_ts.begin(), right_ts.end(), left_ts[begin]) - right_ts.begin());
      for (std::size_t i = begin; i < end; ++i) {
        const std::int64_t t = left_ts[i];
        while (j < m && right_ts[j] <= t) ++j;
        std::int64_t match = static_cast<std::int64_t>(j) - 1;
        if (match >= 0 && tolerance &&
            distance(t, right_ts[static_cast<std::size_t>(match)]) >
                static_cast<std::uint64_t>(*tolerance)) {
          match = -1;
        }
        out[i] = match;
      }
    }
  }
}

void gather(std::span<const double> values, std::span<const std::int64_t> index,
            std::span<double> out, int threads) {
  EP_CHECK(out.size() == index.size(), "gather: output has {} rows, index has {}", out.size(),
           index.size());
  const auto n = static_cast<std::ptrdiff_t>(index.size());
  const auto limit = static_cast<std::int64_t>(values.size());
  std::ptrdiff_t bad = n;
  const int team = detail::threads_for(index.size(), threads, kMinRowsPerThread);
#pragma omp parallel for num_threads(team) reduction(min : bad) if (team > 1)
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    const std::int64_t k = index[static_cast<std::size_t>(i)];
    if (k >= limit && i < bad) bad = i;
    out[static_cast<std::size_t>(i)] =
        (k < 0 || k >= limit) ? kNaN : values[static_cast<std::size_t>(k)];
  }
  EP_CHECK(bad == n, "gather: index {} at row {} is out of range ({} values)",
           index[static_cast<std::size_t>(bad)], bad, values.size());
}

Resampled resample(std::span<const std::int64_t> ts, std::span<const double> values,
                   std::int64_t period, ResampleMode mode, int threads) {
  EP_CHECK(period > 0, "resample: period must be > 0, got {}", period);
  EP_CHECK(ts.size() == values.size(), "resample: {} timestamps but {} values", ts.size(),
           values.size());
  Resampled result;
  if (ts.empty()) return result;
  check_sorted(ts, "resample");
  const std::int64_t origin_bucket = floor_div(ts.front(), period);
  const std::int64_t last_bucket = floor_div(ts.back(), period);
  const std::uint64_t buckets = distance(last_bucket, origin_bucket) + 1;
  EP_CHECK(buckets <= kMaxBuckets,
           "resample: {} buckets of period {} span the timestamps; at most {} allowed", buckets,
           period, kMaxBuckets);
  result.bucket_start.resize(buckets);
  result.values.assign(buckets, kNaN);
  for (std::uint64_t k = 0; k < buckets; ++k) {
    result.bucket_start[k] = (origin_bucket + static_cast<std::int64_t>(k)) * period;
  }
  auto bucket_of = [&](std::size_t row) {
    return static_cast<std::size_t>(floor_div(ts[row], period) - origin_bucket);
  };
  const std::size_t n = ts.size();
  // Rows split at bucket changes, so each bucket is written by exactly one thread.
  auto boundary = [&](int parts, int index) {
    std::size_t row = detail::split_range(n, parts, index).begin;
    if (index >= parts) return n;
    while (row > 0 && row < n && bucket_of(row) == bucket_of(row - 1)) ++row;
    return row;
  };
  const int team = detail::threads_for(n, threads, kMinRowsPerThread);
#pragma omp parallel num_threads(team) if (team > 1)
  {
    const int parts = omp_get_num_threads();
    const int t = omp_get_thread_num();
    const std::size_t begin = boundary(parts, t);
    const std::size_t end = boundary(parts, t + 1);
    std::size_t row = begin;
    while (row < end) {
      const std::size_t bucket = bucket_of(row);
      double sum = 0.0;
      std::size_t count = 0;
      for (; row < end && bucket_of(row) == bucket; ++row) {
        sum += values[row];
        ++count;
      }
      result.values[bucket] =
          mode == ResampleMode::mean ? sum / static_cast<double>(count) : values[row - 1];
    }
  }
  return result;
}

}  // namespace edgeperf::columnar
