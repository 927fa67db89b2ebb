// Group-by aggregation over integer keys. Each thread owns a partial table and works through
// its rows in blocks small enough to stay in L1: first the block's keys are mapped to group
// slots (dense: key - base; hash: open addressing), then every value column is scattered into
// its per-slot statistics. Partials are merged once, in finish().
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "edgeperf/columnar/kernels.h"
#include "edgeperf/core/error.h"
#include "kernel_util.h"

namespace edgeperf::columnar {
namespace {

constexpr std::size_t kBlockRows = 4096;
constexpr std::size_t kDenseRangeLimit = std::size_t{1} << 18;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// min/max that skip NaN: a NaN accumulator takes the first value, a NaN value is ignored.
inline void take_min(double& acc, double x) {
  if (x < acc || acc != acc) acc = x;
}
inline void take_max(double& acc, double x) {
  if (x > acc || acc != acc) acc = x;
}

// Branch-free so it vectorizes (std::minmax_element does not).
template <typename K>
std::pair<std::int64_t, std::int64_t> key_range(const K* keys, std::size_t n) {
  K lo = keys[0], hi = keys[0];
  for (std::size_t i = 1; i < n; ++i) {
    lo = std::min(lo, keys[i]);
    hi = std::max(hi, keys[i]);
  }
  return {lo, hi};
}

// Slot of row i: key - base in dense mode, a precomputed slot in hash mode.
template <typename K>
struct DenseSlots {
  const K* keys;
  std::int64_t base;
  std::size_t operator[](std::size_t i) const {
    return static_cast<std::size_t>(static_cast<std::int64_t>(keys[i]) - base);
  }
};
struct ArraySlots {
  const std::uint32_t* slots;
  std::size_t operator[](std::size_t i) const { return slots[i]; }
};

struct ColumnStats {
  std::vector<double> sum, min, max;
};

// One thread's groups. Slot s holds counts[s] and the column statistics of one key.
class Partial {
 public:
  explicit Partial(const std::vector<unsigned>& stats) : stats_(stats), columns_(stats.size()) {}

  template <typename K>
  void add_block(const K* keys, std::size_t n, const std::vector<ValuesView>& values,
                 std::size_t offset) {
    const std::size_t done = dense_ && !counts_.empty() ? dense_prefix(keys, n, values, offset) : 0;
    if (done == n) return;
    keys += done;
    n -= done;
    offset += done;
    if (map_keys(keys, n)) {
      // Dense: the slot is computed inline from the key (no slot array round trip).
      accumulate_block(DenseSlots<K>{keys, dense_base_}, n, values, offset, false);
    } else {
      accumulate_block(ArraySlots{slots_.data()}, n, values, offset, false);
    }
  }

  // Calls visit(key, slot) for every group present.
  template <typename Visit>
  void for_each_group(Visit&& visit) const {
    for (std::size_t s = 0; s < counts_.size(); ++s) {
      if (counts_[s] == 0) continue;
      visit(dense_ ? dense_base_ + static_cast<std::int64_t>(s) : group_keys_[s], s);
    }
  }
  std::int64_t count(std::size_t slot) const { return counts_[slot]; }
  const ColumnStats& column(std::size_t c) const { return columns_[c]; }

 private:
  // True when the block is handled by the dense table; otherwise fills slots_ from the hash.
  template <typename K>
  bool map_keys(const K* keys, std::size_t n) {
    if (dense_) {
      const auto [lo, hi] = key_range(keys, n);
      if (fit_dense(lo, hi)) return true;
      to_hash();
    }
    reserve_hash(group_keys_.size() + n);
    reserve_groups(group_keys_.size() + n);
    for (std::size_t i = 0; i < n; ++i) slots_[i] = find_or_insert(keys[i]);
    return false;
  }

  // Makes the dense table cover [lo, hi]; false when that range is too large.
  bool fit_dense(std::int64_t lo, std::int64_t hi) {
    const bool empty = counts_.empty();
    const std::int64_t have_lo = empty ? lo : dense_base_;
    const std::int64_t have_hi =
        empty ? hi : dense_base_ + static_cast<std::int64_t>(counts_.size()) - 1;
    if (!empty && lo >= have_lo && hi <= have_hi) return true;
    const std::int64_t new_lo = std::min(lo, have_lo);
    const std::int64_t new_hi = std::max(hi, have_hi);
    const std::uint64_t needed =
        static_cast<std::uint64_t>(new_hi) - static_cast<std::uint64_t>(new_lo) + 1;
    if (needed == 0 || needed > kDenseRangeLimit) return false;
    // Grow with slack in the direction of growth so drifting keys do not re-base every block.
    std::uint64_t slack = 0;
    if (!empty) slack = std::max<std::uint64_t>(needed, 2 * counts_.size()) - needed;
    slack = std::min<std::uint64_t>(slack, kDenseRangeLimit - needed);
    const bool downward = !empty && lo < have_lo;
    const std::uint64_t room =
        downward ? static_cast<std::uint64_t>(new_lo) -
                       static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::min())
                 : static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) -
                       static_cast<std::uint64_t>(new_hi);
    slack = std::min(slack, room);
    const std::int64_t base = downward ? new_lo - static_cast<std::int64_t>(slack) : new_lo;
    const auto size = static_cast<std::size_t>(needed + slack);
    rebase(base, size, empty ? 0 : static_cast<std::size_t>(have_lo - base));
    return true;
  }

  void rebase(std::int64_t base, std::size_t size, std::size_t shift) {
    auto move_into = [&](auto& vec, auto fill) {
      using Vec = std::decay_t<decltype(vec)>;
      Vec bigger(size, fill);
      std::copy(vec.begin(), vec.end(), bigger.begin() + static_cast<std::ptrdiff_t>(shift));
      vec.swap(bigger);
    };
    move_into(counts_, std::int64_t{0});
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (stats_[c] & kStatSum) move_into(columns_[c].sum, 0.0);
      if (stats_[c] & kStatMin) move_into(columns_[c].min, kNaN);
      if (stats_[c] & kStatMax) move_into(columns_[c].max, kNaN);
    }
    dense_base_ = base;
  }

  void to_hash() {
    Partial hashed(stats_);
    hashed.dense_ = false;
    hashed.reserve_hash(counts_.size() + kBlockRows);
    for_each_group([&](std::int64_t key, std::size_t s) { hashed.merge_slot(key, *this, s); });
    *this = std::move(hashed);
  }

  void merge_slot(std::int64_t key, const Partial& from, std::size_t s) {
    const std::uint32_t g = find_or_insert(key);
    counts_[g] += from.counts_[s];
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (stats_[c] & kStatSum) columns_[c].sum[g] += from.columns_[c].sum[s];
      if (stats_[c] & kStatMin) take_min(columns_[c].min[g], from.columns_[c].min[s]);
      if (stats_[c] & kStatMax) take_max(columns_[c].max[g], from.columns_[c].max[s]);
    }
  }

  // Table capacity stays a power of two at most half full, grown before a block, never inside.
  void reserve_hash(std::size_t groups) {
    std::size_t capacity = std::max<std::size_t>(16, table_keys_.size());
    while (capacity < 2 * groups) capacity *= 2;
    if (capacity == table_keys_.size()) return;
    table_keys_.assign(capacity, 0);
    table_slots_.assign(capacity, kEmpty);
    shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));
    for (std::uint32_t g = 0; g < group_keys_.size(); ++g) insert_slot(group_keys_[g], g);
  }

  std::size_t home(std::int64_t key) const {
    return static_cast<std::size_t>((static_cast<std::uint64_t>(key) * 0x9E3779B97F4A7C15ull) >>
                                    shift_);
  }

  void insert_slot(std::int64_t key, std::uint32_t g) {
    const std::size_t mask = table_keys_.size() - 1;
    std::size_t i = home(key);
    while (table_slots_[i] != kEmpty) i = (i + 1) & mask;
    table_keys_[i] = key;
    table_slots_[i] = g;
  }

  std::uint32_t find_or_insert(std::int64_t key) {
    const std::size_t mask = table_keys_.size() - 1;
    for (std::size_t i = home(key);; i = (i + 1) & mask) {
      if (table_slots_[i] == kEmpty) {
        const auto g = static_cast<std::uint32_t>(group_keys_.size());
        table_keys_[i] = key;
        table_slots_[i] = g;
        add_group(key);
        return g;
      }
      if (table_keys_[i] == key) return table_slots_[i];
    }
  }

  void add_group(std::int64_t key) {
    group_keys_.push_back(key);  // capacity reserved per block: no reallocation per row
    counts_.push_back(0);
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (stats_[c] & kStatSum) columns_[c].sum.push_back(0.0);
      if (stats_[c] & kStatMin) columns_[c].min.push_back(kNaN);
      if (stats_[c] & kStatMax) columns_[c].max.push_back(kNaN);
    }
  }

  // Geometric growth, decided once per block, so the per-row push_backs never reallocate.
  void reserve_groups(std::size_t want) {
    if (want <= group_keys_.capacity()) return;
    want = std::max(want, 2 * group_keys_.capacity());
    group_keys_.reserve(want);
    counts_.reserve(want);
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (stats_[c] & kStatSum) columns_[c].sum.reserve(want);
      if (stats_[c] & kStatMin) columns_[c].min.reserve(want);
      if (stats_[c] & kStatMax) columns_[c].max.reserve(want);
    }
  }

  // Counts ride along with the first sum (one pass over the block instead of two).
  bool first_sum_fused() const { return !columns_.empty() && (stats_[0] & kStatSum); }

  // Fast path for the leading rows whose keys fall in the dense table: the range check is
  // inline in the first pass (a separate min/max pass costs a serialized read of the keys).
  // Returns how many rows it aggregated.
  template <typename K>
  std::size_t dense_prefix(const K* keys, std::size_t n, const std::vector<ValuesView>& values,
                           std::size_t offset) {
    const auto base = static_cast<std::uint64_t>(dense_base_);
    const std::uint64_t size = counts_.size();
    std::int64_t* counts = counts_.data();
    // Unsigned difference: a key below the base wraps to a huge slot, so one compare suffices.
    auto slot_of = [&](std::size_t i) {
      return static_cast<std::uint64_t>(static_cast<std::int64_t>(keys[i])) - base;
    };
    std::size_t m = 0;
    if (first_sum_fused()) {
      double* sum = columns_[0].sum.data();
      std::visit(
          [&](auto span) {
            const auto* v = span.data() + offset;
            for (; m < n; ++m) {
              const std::uint64_t s = slot_of(m);
              if (s >= size) break;
              sum[s] += static_cast<double>(v[m]);
              ++counts[s];
            }
          },
          values[0]);
    } else {
      for (; m < n; ++m) {
        const std::uint64_t s = slot_of(m);
        if (s >= size) break;
        ++counts[s];
      }
    }
    accumulate_block(DenseSlots<K>{keys, dense_base_}, m, values, offset, true);
    return m;
  }

  enum class SumPass { with_counts, sum_only, skip };

  // `counted`: counts (and the fused first sum) were already done by dense_prefix.
  template <typename Slots>
  void accumulate_block(Slots slot, std::size_t n, const std::vector<ValuesView>& values,
                        std::size_t offset, bool counted) {
    const bool fused = first_sum_fused();
    if (!fused && !counted) {
      std::int64_t* counts = counts_.data();
      for (std::size_t i = 0; i < n; ++i) ++counts[slot[i]];
    }
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      SumPass pass = (stats_[c] & kStatSum) ? SumPass::sum_only : SumPass::skip;
      if (c == 0 && fused) pass = counted ? SumPass::skip : SumPass::with_counts;
      std::visit([&](auto span) { accumulate(slot, c, span.data() + offset, n, pass); }, values[c]);
    }
  }

  template <typename Slots, typename V>
  void accumulate(Slots slot, std::size_t c, const V* v, std::size_t n, SumPass pass) {
    ColumnStats& col = columns_[c];
    if (pass == SumPass::with_counts) {
      double* sum = col.sum.data();
      std::int64_t* counts = counts_.data();
      for (std::size_t i = 0; i < n; ++i) {
        const std::size_t s = slot[i];
        sum[s] += static_cast<double>(v[i]);
        ++counts[s];
      }
    } else if (pass == SumPass::sum_only) {
      double* sum = col.sum.data();
      for (std::size_t i = 0; i < n; ++i) sum[slot[i]] += static_cast<double>(v[i]);
    }
    if (stats_[c] & kStatMin) {
      double* min = col.min.data();
      for (std::size_t i = 0; i < n; ++i) take_min(min[slot[i]], static_cast<double>(v[i]));
    }
    if (stats_[c] & kStatMax) {
      double* max = col.max.data();
      for (std::size_t i = 0; i < n; ++i) take_max(max[slot[i]], static_cast<double>(v[i]));
    }
  }

  static constexpr std::uint32_t kEmpty = std::numeric_limits<std::uint32_t>::max();

  std::vector<unsigned> stats_;
  std::vector<ColumnStats> columns_;
  std::vector<std::int64_t> counts_;
  bool dense_ = true;
  std::int64_t dense_base_ = 0;
  std::vector<std::int64_t> group_keys_;  // hash mode: key of each slot
  std::vector<std::int64_t> table_keys_;
  std::vector<std::uint32_t> table_slots_;
  unsigned shift_ = 60;
  std::array<std::uint32_t, kBlockRows> slots_{};
};

void check_values(std::size_t rows, const std::vector<ValuesView>& values, std::size_t columns) {
  EP_CHECK(values.size() == columns, "groupby: {} value columns given, {} expected", values.size(),
           columns);
  for (std::size_t c = 0; c < values.size(); ++c) {
    const std::size_t n = std::visit([](auto span) { return span.size(); }, values[c]);
    EP_CHECK(n == rows, "groupby: value column {} has {} rows, keys have {}", c, n, rows);
  }
}

}  // namespace

struct GroupBy::State {
  std::vector<unsigned> stats;
  int threads;
  std::vector<std::unique_ptr<Partial>> partials;

  // Rows [0, n) with keys from key_at(block_begin) (a pointer valid for the block).
  template <typename KeyBlock>
  void run(std::size_t n, const std::vector<ValuesView>& values, KeyBlock key_block) {
    const int team = detail::threads_for(n, threads, 4 * kBlockRows);
#pragma omp parallel num_threads(team) if (team > 1)
    {
      const int t = omp_get_thread_num();
      const auto [begin, end] = detail::split_range(n, omp_get_num_threads(), t);
      Partial& partial = *partials[static_cast<std::size_t>(t)];
      for (std::size_t b = begin; b < end; b += kBlockRows) {
        const std::size_t rows = std::min(kBlockRows, end - b);
        partial.add_block(key_block(b), rows, values, b);
      }
    }
  }
};

GroupBy::GroupBy(std::vector<unsigned> stats_per_column, int threads)
    : state_(std::make_unique<State>()) {
  state_->stats = std::move(stats_per_column);
  state_->threads = detail::resolve_threads(threads);
  for (int t = 0; t < state_->threads; ++t) {
    state_->partials.push_back(std::make_unique<Partial>(state_->stats));
  }
}
GroupBy::~GroupBy() = default;
GroupBy::GroupBy(GroupBy&&) noexcept = default;
GroupBy& GroupBy::operator=(GroupBy&&) noexcept = default;

std::size_t GroupBy::dense_range_limit() { return kDenseRangeLimit; }

void GroupBy::add(std::span<const std::int32_t> keys, const std::vector<ValuesView>& values) {
  check_values(keys.size(), values, state_->stats.size());
  state_->run(keys.size(), values, [&](std::size_t b) { return keys.data() + b; });
}

void GroupBy::add(std::span<const std::int64_t> keys, const std::vector<ValuesView>& values) {
  check_values(keys.size(), values, state_->stats.size());
  state_->run(keys.size(), values, [&](std::size_t b) { return keys.data() + b; });
}

void GroupBy::add_constant_key(std::int64_t key, std::size_t count,
                               const std::vector<ValuesView>& values) {
  check_values(count, values, state_->stats.size());
  std::array<std::int64_t, kBlockRows> same_key;
  same_key.fill(key);
  state_->run(count, values, [&](std::size_t) { return same_key.data(); });
}

GroupByResult GroupBy::finish() const {
  const std::size_t columns = state_->stats.size();
  std::unordered_map<std::int64_t, std::size_t> index;
  GroupByResult merged;
  merged.columns.resize(columns);
  for (const auto& partial : state_->partials) {
    partial->for_each_group([&](std::int64_t key, std::size_t s) {
      auto [it, inserted] = index.try_emplace(key, merged.keys.size());
      const std::size_t g = it->second;
      if (inserted) {
        merged.keys.push_back(key);
        merged.counts.push_back(0);
        for (std::size_t c = 0; c < columns; ++c) {
          auto& col = merged.columns[c];
          if (state_->stats[c] & kStatSum) col.sum.push_back(0.0);
          if (state_->stats[c] & kStatMin) col.min.push_back(kNaN);
          if (state_->stats[c] & kStatMax) col.max.push_back(kNaN);
        }
      }
      merged.counts[g] += partial->count(s);
      for (std::size_t c = 0; c < columns; ++c) {
        const ColumnStats& from = partial->column(c);
        auto& col = merged.columns[c];
        if (state_->stats[c] & kStatSum) col.sum[g] += from.sum[s];
        if (state_->stats[c] & kStatMin) take_min(col.min[g], from.min[s]);
        if (state_->stats[c] & kStatMax) take_max(col.max[g], from.max[s]);
      }
    });
  }
  // Ascending key order.
  std::vector<std::size_t> order(merged.keys.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t x, std::size_t y) { return merged.keys[x] < merged.keys[y]; });
  auto permute = [&](auto& vec) {
    if (vec.empty()) return;
    std::decay_t<decltype(vec)> sorted(vec.size());
    for (std::size_t i = 0; i < order.size(); ++i) sorted[i] = vec[order[i]];
    vec.swap(sorted);
  };
  permute(merged.keys);
  permute(merged.counts);
  for (auto& col : merged.columns) {
    permute(col.sum);
    permute(col.min);
    permute(col.max);
  }
  return merged;
}

double GroupByResult::mean(std::size_t column, std::size_t group) const {
  EP_CHECK(column < columns.size() && !columns[column].sum.empty(),
           "groupby: mean of column {} needs its sum", column);
  EP_CHECK(group < counts.size(), "groupby: group {} out of range ({} groups)", group,
           counts.size());
  return counts[group] == 0 ? kNaN
                            : columns[column].sum[group] / static_cast<double>(counts[group]);
}

GroupByResult groupby(std::span<const std::int32_t> keys, ValuesView values, unsigned stats,
                      int threads) {
  GroupBy g({stats}, threads);
  g.add(keys, {values});
  return g.finish();
}

GroupByResult groupby(std::span<const std::int64_t> keys, ValuesView values, unsigned stats,
                      int threads) {
  GroupBy g({stats}, threads);
  g.add(keys, {values});
  return g.finish();
}

}  // namespace edgeperf::columnar
