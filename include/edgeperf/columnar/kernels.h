#pragma once
// Columnar analytics kernels over plain spans: elementwise arithmetic, group-by
// aggregation, rolling windows, as-of alignment and resampling. Each kernel takes a
// thread count (<= 0 means OpenMP's default) and never allocates in its inner loops.
// Invalid input (length mismatch, unsorted timestamps, zero window) throws edgeperf::Error.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <variant>
#include <vector>

namespace edgeperf::columnar {

// ---- Elementwise arithmetic ----------------------------------------------------------

enum class BinaryOp { add, sub, mul, div };

// How results are written. `streaming` uses non-temporal stores (no read-for-ownership of
// the output, does not pollute the cache); `automatic` picks it when the output is larger
// than the last-level cache.
enum class StorePolicy { automatic, regular, streaming };

// out[i] = a[i] op b[i]. All three spans have the same length; out may alias a or b.
void elementwise(BinaryOp op, std::span<const float> a, std::span<const float> b,
                 std::span<float> out, int threads = 0, StorePolicy store = StorePolicy::automatic);
void elementwise(BinaryOp op, std::span<const double> a, std::span<const double> b,
                 std::span<double> out, int threads = 0,
                 StorePolicy store = StorePolicy::automatic);
// out[i] = a[i] op scalar.
void elementwise_scalar(BinaryOp op, std::span<const float> a, float scalar, std::span<float> out,
                        int threads = 0, StorePolicy store = StorePolicy::automatic);
void elementwise_scalar(BinaryOp op, std::span<const double> a, double scalar,
                        std::span<double> out, int threads = 0,
                        StorePolicy store = StorePolicy::automatic);

// Outputs at least this many bytes use non-temporal stores under StorePolicy::automatic.
std::size_t streaming_store_threshold_bytes();

// ---- Group-by aggregation --------------------------------------------------------------

// Statistics a value column needs, OR-ed together. Mean is sum / count.
enum GroupStat : unsigned { kStatSum = 1u, kStatMin = 2u, kStatMax = 4u };

using ValuesView = std::variant<std::span<const float>, std::span<const double>>;

// Result of a group-by: groups in ascending key order.
// NaN semantics: sum and mean propagate NaN (IEEE); min and max skip NaN values and are
// NaN only when every value of the group is NaN. count counts rows.
struct GroupByResult {
  struct Column {
    std::vector<double> sum, min, max;  // one per group; empty when not requested
  };
  std::vector<std::int64_t> keys;
  std::vector<std::int64_t> counts;
  std::vector<Column> columns;  // one per value column, in the order given

  std::size_t num_groups() const { return keys.size(); }
  double mean(std::size_t column, std::size_t group) const;
};

// Streaming group-by over integer keys: feed batches (row groups) with add(), then finish().
// Each thread aggregates into its own partial table: a dense array indexed by key - min while
// the keys seen stay in a small range, an open-addressing hash table otherwise. Partials are
// merged in finish().
class GroupBy {
 public:
  // stats_per_column[c] is the GroupStat mask for value column c.
  explicit GroupBy(std::vector<unsigned> stats_per_column, int threads = 0);
  ~GroupBy();
  GroupBy(GroupBy&&) noexcept;
  GroupBy& operator=(GroupBy&&) noexcept;

  // values.size() == number of value columns; each as long as keys.
  void add(std::span<const std::int32_t> keys, const std::vector<ValuesView>& values);
  void add(std::span<const std::int64_t> keys, const std::vector<ValuesView>& values);
  // Adds `count` rows that all have the same key (a hive partition value).
  void add_constant_key(std::int64_t key, std::size_t count, const std::vector<ValuesView>& values);
  GroupByResult finish() const;

  // Largest key range (max - min + 1) a thread keeps in a dense array.
  static std::size_t dense_range_limit();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// One-shot helpers for a single value column.
GroupByResult groupby(std::span<const std::int32_t> keys, ValuesView values, unsigned stats,
                      int threads = 0);
GroupByResult groupby(std::span<const std::int64_t> keys, ValuesView values, unsigned stats,
                      int threads = 0);

// ---- Rolling windows (by row count) -----------------------------------------------------

// out[i] = mean (or root mean square) of in[i - window + 1 .. i]. The first window - 1
// outputs are NaN (incomplete window), and so is any output whose window holds a NaN.
// O(n): compensated (Neumaier) running sums; each thread re-seeds its own sum exactly.
void rolling_mean(std::span<const double> in, std::size_t window, std::span<double> out,
                  int threads = 0);
void rolling_mean(std::span<const float> in, std::size_t window, std::span<float> out,
                  int threads = 0);
void rolling_rms(std::span<const double> in, std::size_t window, std::span<double> out,
                 int threads = 0);
void rolling_rms(std::span<const float> in, std::size_t window, std::span<float> out,
                 int threads = 0);

// ---- Timestamps -------------------------------------------------------------------------

// Throws Error naming `what` and the first row where ts decreases.
void check_sorted(std::span<const std::int64_t> ts, const char* what);

// As-of alignment: out[i] = index of the last right row with right_ts <= left_ts[i], or -1
// when there is none or it is older than left_ts[i] - tolerance. Both timestamp columns must
// be sorted ascending (Error otherwise). out.size() == left_ts.size().
void asof_indices(std::span<const std::int64_t> left_ts, std::span<const std::int64_t> right_ts,
                  std::span<std::int64_t> out, std::optional<std::int64_t> tolerance = {},
                  int threads = 0);
// out[i] = values[index[i]], NaN where index[i] < 0.
void gather(std::span<const double> values, std::span<const std::int64_t> index,
            std::span<double> out, int threads = 0);

// ---- Resampling to a fixed rate ---------------------------------------------------------

enum class ResampleMode { mean, last };

struct Resampled {
  std::vector<std::int64_t> bucket_start;  // origin + k * period, consecutive
  std::vector<double> values;              // NaN for a bucket with no rows
};

// Buckets [origin + k*period, origin + (k+1)*period) from the bucket of ts.front() to the
// bucket of ts.back(), origin = floor(ts.front() / period) * period. Timestamps must be
// sorted ascending; period > 0. Mean of the bucket's rows, or the value of its last row.
Resampled resample(std::span<const std::int64_t> ts, std::span<const double> values,
                   std::int64_t period, ResampleMode mode, int threads = 0);

}  // namespace edgeperf::columnar
