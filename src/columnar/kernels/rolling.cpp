// Rolling mean and RMS over a fixed number of rows in O(n): a running sum that adds the row
// entering the window and subtracts the one leaving it. Numerical care: the running sum is
// compensated (Neumaier), non-finite values are counted instead of summed (so one NaN or inf
// does not poison the rest of the column), and the sum is re-seeded exactly every segment.
#include <cmath>
#include <limits>

#include "edgeperf/columnar/kernels.h"
#include "edgeperf/core/error.h"
#include "kernel_util.h"

namespace edgeperf::columnar {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

class WindowSum {
 public:
  void add(double x) { update(x, +1); }
  void remove(double x) { update(x, -1); }
  double total() const {
    if (nans_ > 0 || (pos_inf_ > 0 && neg_inf_ > 0)) return kNaN;
    if (pos_inf_ > 0) return kInf;
    if (neg_inf_ > 0) return -kInf;
    return sum_ + compensation_;
  }

 private:
  void update(double x, int sign) {
    if (std::isnan(x)) {
      nans_ += sign;
    } else if (std::isinf(x)) {
      (x > 0 ? pos_inf_ : neg_inf_) += sign;
    } else {
      const double term = sign > 0 ? x : -x;
      const double t = sum_ + term;
      compensation_ += std::fabs(sum_) >= std::fabs(term) ? (sum_ - t) + term : (term - t) + sum_;
      sum_ = t;
    }
  }

  double sum_ = 0.0, compensation_ = 0.0;
  long nans_ = 0, pos_inf_ = 0, neg_inf_ = 0;
};

struct Identity {
  double operator()(double x) const { return x; }
};
struct Square {
  double operator()(double x) const { return x * x; }
};

// Outputs [begin, end), all with complete windows (begin >= window - 1).
template <typename T, typename Term, typename Finish>
void roll_segment(const T* in, std::size_t window, T* out, std::size_t begin, std::size_t end,
                  Term term, Finish finish) {
  WindowSum sum;
  for (std::size_t j = begin + 1 - window; j <= begin; ++j) sum.add(term(in[j]));
  out[begin] = static_cast<T>(finish(sum.total()));
  for (std::size_t i = begin + 1; i < end; ++i) {
    sum.add(term(in[i]));
    sum.remove(term(in[i - window]));
    out[i] = static_cast<T>(finish(sum.total()));
  }
}

template <typename T, typename Term, typename Finish>
void rolling(std::span<const T> in, std::size_t window, std::span<T> out, int threads,
             const char* name, Term term, Finish finish) {
  EP_CHECK(window > 0, "{}: window must be at least 1 row", name);
  EP_CHECK(in.size() == out.size(), "{}: input has {} rows, output {}", name, in.size(),
           out.size());
  const std::size_t n = in.size();
  const std::size_t first = std::min(n, window - 1);
  for (std::size_t i = 0; i < first; ++i) out[i] = static_cast<T>(kNaN);
  const std::size_t complete = n - first;
  // Re-seeding every segment bounds drift; segments of >= 4 windows keep its cost <= 25%.
  const std::size_t segment = std::max<std::size_t>(std::size_t{1} << 16, 4 * window);
  const auto segments = static_cast<std::ptrdiff_t>((complete + segment - 1) / segment);
  const int team = detail::threads_for(complete, threads, segment);
#pragma omp parallel for num_threads(team) schedule(static) if (team > 1)
  for (std::ptrdiff_t s = 0; s < segments; ++s) {
    const std::size_t begin = first + static_cast<std::size_t>(s) * segment;
    const std::size_t end = std::min(n, begin + segment);
    roll_segment(in.data(), window, out.data(), begin, end, term, finish);
  }
}

double mean_of(std::size_t window, double total) { return total / static_cast<double>(window); }
// Rounding can leave a tiny negative sum of squares; NaN stays NaN.
double non_negative(double x) { return x < 0.0 ? 0.0 : x; }

}  // namespace

void rolling_mean(std::span<const double> in, std::size_t window, std::span<double> out,
                  int threads) {
  rolling(in, window, out, threads, "rolling_mean", Identity{},
          [window](double total) { return mean_of(window, total); });
}
void rolling_mean(std::span<const float> in, std::size_t window, std::span<float> out,
                  int threads) {
  rolling(in, window, out, threads, "rolling_mean", Identity{},
          [window](double total) { return mean_of(window, total); });
}
void rolling_rms(std::span<const double> in, std::size_t window, std::span<double> out,
                 int threads) {
  rolling(in, window, out, threads, "rolling_rms", Square{},
          [window](double total) { return std::sqrt(non_negative(mean_of(window, total))); });
}
void rolling_rms(std::span<const float> in, std::size_t window, std::span<float> out, int threads) {
  rolling(in, window, out, threads, "rolling_rms", Square{},
          [window](double total) { return std::sqrt(non_negative(mean_of(window, total))); });
}

}  // namespace edgeperf::columnar
