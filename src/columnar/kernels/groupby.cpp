// Group-by aggregation over integer keys. Each thread owns a partial table and works through
// its rows in blocks small enough to stay in L1: first the block's keys are mapped to group
// slots (dense: key - base; hash: open addressing), then every value column is scattered into
// its per-slot statistics. Partials are merged once, in finish().
//
// The row count and the first column's sum share one 16-byte slot, updated with one vector
// load, add and store per row. On the dense path the key and value streams are prefetched in
// software: the table updates fill the out-of-order window, so the hardware prefetcher alone
// keeps too few lines in flight and the scatter and the memory reads add up instead of
// overlapping (`edgeperf vecbench` measures both against the read floor).
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <optional>
#include <type_traits>
#include <unordered_map>

#include "edgeperf/columnar/kernels.h"
#include "edgeperf/core/error.h"
#include "kernel_util.h"

namespace edgeperf::columnar {
namespace {

constexpr std::size_t kBlockRows = 4096;
constexpr std::size_t kDenseRangeLimit = std::size_t{1} << 18;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// {row count, sum of the first value column when it is summed}: a GCC vector, so the update is
// one SSE2 or NEON add. Counts are exact as doubles up to 2^53 rows. The count comes first:
// {1, v} is one load into the high lane of a register holding 1.0 (movhpd).
using SumCount = double __attribute__((vector_size(16)));
struct Tally {
  SumCount v;
};

// 16-byte vectors of unsigned lanes, for the key range check.
using U32x4 = std::uint32_t __attribute__((vector_size(16)));
using U64x2 = std::uint64_t __attribute__((vector_size(16)));
template <typename Lane>
struct LanesOf;
template <>
struct LanesOf<std::uint32_t> {
  using type = U32x4;
};
template <>
struct LanesOf<std::uint64_t> {
  using type = U64x2;
};

// OR of all lanes, by folding the vector onto itself (two shuffles, not one extract a lane).
inline std::uint32_t or_lanes(U32x4 x) {
  x |= __builtin_shufflevector(x, x, 2, 3, 0, 1);
  x |= __builtin_shufflevector(x, x, 1, 0, 3, 2);
  return x[0];
}
inline std::uint64_t or_lanes(U64x2 x) {
  x |= __builtin_shufflevector(x, x, 1, 0);
  return x[0];
}

constexpr std::size_t kChunkRows = 16;  // rows between two prefetches
constexpr std::size_t kPrefetchRows = 512;
constexpr std::size_t kCacheLine = 64;

// A column read front to back; `rows` rows are readable from `data` (for the keys of a
// block, every row to the end of the column, so the prefetch may run past the block).
template <typename T>
struct Stream {
  const T* data;
  std::size_t rows;

  // Prefetches the cache lines of the chunk kPrefetchRows past `row`; near the end of the
  // column only its last row. Always inlined: GCC deems a function of prefetches pure and
  // drops the call when it is not inlined early.
  [[gnu::always_inline]] void prefetch_ahead(std::size_t row) const {
    const std::size_t ahead = row + kPrefetchRows;
    if (ahead + kChunkRows > rows) [[unlikely]] {
      if (rows > 0) __builtin_prefetch(data + rows - 1);
      return;
    }
    constexpr std::size_t kRowsPerLine = std::max<std::size_t>(1, kCacheLine / sizeof(T));
    for (std::size_t r = 0; r < kChunkRows; r += kRowsPerLine) __builtin_prefetch(data + ahead + r);
  }
};

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

// One thread's groups. Slot s holds tallies[s] and the column statistics of one key.
class Partial {
 public:
  explicit Partial(const std::vector<unsigned>& stats) : stats_(stats), columns_(stats.size()) {}

  template <typename K>
  void add_block(Stream<K> block, std::size_t n, const std::vector<ValuesView>& values,
                 std::size_t offset) {
    const K* keys = block.data;
    const std::size_t done =
        dense_ && !tallies_.empty() ? dense_prefix(block, n, values, offset) : 0;
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
    for (std::size_t s = 0; s < tallies_.size(); ++s) {
      if (tallies_[s].v[0] == 0) continue;
      visit(dense_ ? dense_base_ + static_cast<std::int64_t>(s) : group_keys_[s], s);
    }
  }
  // The dense table's key range, or nothing when the partial uses the hash table. An empty
  // partial has an empty range (lo > hi).
  std::optional<std::pair<std::int64_t, std::int64_t>> dense_keys() const {
    if (!dense_) return std::nullopt;
    return std::pair{dense_base_, dense_base_ + static_cast<std::int64_t>(tallies_.size()) - 1};
  }
  std::int64_t count(std::size_t slot) const {
    return static_cast<std::int64_t>(tallies_[slot].v[0]);
  }
  double sum(std::size_t c, std::size_t slot) const {
    return c == 0 && first_sum_fused() ? tallies_[slot].v[1] : columns_[c].sum[slot];
  }
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
    const bool empty = tallies_.empty();
    const std::int64_t have_lo = empty ? lo : dense_base_;
    const std::int64_t have_hi =
        empty ? hi : dense_base_ + static_cast<std::int64_t>(tallies_.size()) - 1;
    if (!empty && lo >= have_lo && hi <= have_hi) return true;
    const std::int64_t new_lo = std::min(lo, have_lo);
    const std::int64_t new_hi = std::max(hi, have_hi);
    const std::uint64_t needed =
        static_cast<std::uint64_t>(new_hi) - static_cast<std::uint64_t>(new_lo) + 1;
    if (needed == 0 || needed > kDenseRangeLimit) return false;
    // Grow with slack in the direction of growth so drifting keys do not re-base every block.
    std::uint64_t slack = 0;
    if (!empty) slack = std::max<std::uint64_t>(needed, 2 * tallies_.size()) - needed;
    slack = std::min<std::uint64_t>(slack, kDenseRangeLimit - needed);
    // A power-of-two size lets tally_dense check a chunk of slots with one OR.
    slack = std::bit_ceil(needed + slack) - needed;
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
    move_into(tallies_, Tally{});
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (separate_sum(c)) move_into(columns_[c].sum, 0.0);
      if (stats_[c] & kStatMin) move_into(columns_[c].min, kNaN);
      if (stats_[c] & kStatMax) move_into(columns_[c].max, kNaN);
    }
    dense_base_ = base;
  }

  void to_hash() {
    Partial hashed(stats_);
    hashed.dense_ = false;
    hashed.reserve_hash(tallies_.size() + kBlockRows);
    for_each_group([&](std::int64_t key, std::size_t s) { hashed.merge_slot(key, *this, s); });
    *this = std::move(hashed);
  }

  void merge_slot(std::int64_t key, const Partial& from, std::size_t s) {
    const std::uint32_t g = find_or_insert(key);
    tallies_[g].v += from.tallies_[s].v;
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (separate_sum(c)) columns_[c].sum[g] += from.columns_[c].sum[s];
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
    tallies_.push_back(Tally{});
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (separate_sum(c)) columns_[c].sum.push_back(0.0);
      if (stats_[c] & kStatMin) columns_[c].min.push_back(kNaN);
      if (stats_[c] & kStatMax) columns_[c].max.push_back(kNaN);
    }
  }

  // Geometric growth, decided once per block, so the per-row push_backs never reallocate.
  void reserve_groups(std::size_t want) {
    if (want <= group_keys_.capacity()) return;
    want = std::max(want, 2 * group_keys_.capacity());
    group_keys_.reserve(want);
    tallies_.reserve(want);
    for (std::size_t c = 0; c < columns_.size(); ++c) {
      if (separate_sum(c)) columns_[c].sum.reserve(want);
      if (stats_[c] & kStatMin) columns_[c].min.reserve(want);
      if (stats_[c] & kStatMax) columns_[c].max.reserve(want);
    }
  }

  // Counts ride along with the first sum (one pass over the block instead of two).
  bool first_sum_fused() const { return !columns_.empty() && (stats_[0] & kStatSum); }
  // Whether column c keeps its sum apart from the tallies.
  bool separate_sum(std::size_t c) const {
    return (stats_[c] & kStatSum) && !(c == 0 && first_sum_fused());
  }

  // Fast path for the leading rows whose keys fall in the dense table: the range check is
  // inline in the first pass (a separate min/max pass costs a serialized read of the keys).
  // Returns how many rows it aggregated.
  template <typename K>
  std::size_t dense_prefix(Stream<K> keys, std::size_t n, const std::vector<ValuesView>& values,
                           std::size_t offset) {
    std::size_t m = 0;
    if (first_sum_fused()) {
      std::visit(
          [&](auto span) {
            using V = typename decltype(span)::value_type;
            const Stream<V> v{span.data() + offset, span.size() - offset};
            m = tally_dense(keys, n, v, [&](std::size_t i) {
              return SumCount{1.0, static_cast<double>(v.data[i])};
            });
          },
          values[0]);
    } else {
      const Stream<double> no_values{nullptr, 0};
      m = tally_dense(keys, n, no_values, [](std::size_t) { return SumCount{1.0, 0.0}; });
    }
    accumulate_block(DenseSlots<K>{keys.data, dense_base_}, m, values, offset, true);
    return m;
  }

  // Whether the kChunkRows keys all fall in the dense table. Every slot is at most the OR of
  // the chunk's slots, so an OR below the size proves them all in range; fit_dense keeps the
  // size a power of two (unless the int64 range runs out), where that test is also exact.
  // For int32 keys and a table inside the int32 range, 32-bit differences are exact (a key
  // out of range wraps to at least the size).
  template <typename K>
  bool chunk_in_range(const K* keys) const {
    const std::uint64_t size = tallies_.size();
    if constexpr (std::is_same_v<K, std::int32_t>) {
      constexpr std::int64_t kMin = std::numeric_limits<std::int32_t>::min();
      constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
      if (dense_base_ >= kMin && dense_base_ + static_cast<std::int64_t>(size) - 1 <= kMax) {
        return or_of_differences<std::uint32_t>(keys, static_cast<std::uint32_t>(dense_base_)) <
               size;
      }
      std::uint64_t any = 0;
      for (std::size_t i = 0; i < kChunkRows; ++i) {
        any |= static_cast<std::uint64_t>(std::int64_t{keys[i]}) -
               static_cast<std::uint64_t>(dense_base_);
      }
      return any < size;
    } else {
      return or_of_differences<std::uint64_t>(keys, static_cast<std::uint64_t>(dense_base_)) < size;
    }
  }

  // OR over the chunk of (key - base) in unsigned lanes as wide as the key, with 16-byte
  // vector ops (GCC vector extensions: SSE2 or NEON).
  template <typename Lane, typename K>
  static Lane or_of_differences(const K* keys, Lane base) {
    static_assert(sizeof(Lane) == sizeof(K));
    using Lanes = typename LanesOf<Lane>::type;
    constexpr std::size_t kLanes = 16 / sizeof(Lane);
    Lanes any{};
    for (std::size_t i = 0; i < kChunkRows; i += kLanes) {
      Lanes lanes;
      std::memcpy(&lanes, keys + i, sizeof lanes);
      any |= lanes - base;
    }
    return or_lanes(any);
  }

  // Adds row(i) to the tally of row i's key while the key is in the dense range; returns the
  // number of rows added. A chunk whose keys are all in range runs without a check per row.
  template <typename K, typename V, typename Row>
  std::size_t tally_dense(Stream<K> keys, std::size_t n, Stream<V> values, Row row) {
    const auto base = static_cast<std::uint64_t>(dense_base_);
    const std::uint64_t size = tallies_.size();
    Tally* tallies = tallies_.data();
    // Unsigned difference: a key below the base wraps to a huge slot, so one compare does.
    auto slot_of = [&](std::size_t i) {
      return static_cast<std::uint64_t>(std::int64_t{keys.data[i]}) - base;
    };
    // The tally of an in-range key at one add from the key: the base is folded into the
    // table's address once, instead of subtracted from every key.
    const std::uintptr_t origin = reinterpret_cast<std::uintptr_t>(tallies) - base * sizeof(Tally);
    auto tally_of = [&](std::size_t i) -> Tally& {
      const auto key = static_cast<std::uintptr_t>(std::int64_t{keys.data[i]});
      // NOLINTNEXTLINE(performance-no-int-to-ptr): the cast is the point (see above)
      return *reinterpret_cast<Tally*>(origin + key * sizeof(Tally));
    };
    std::size_t chunk = 0;
    if constexpr (std::is_same_v<K, std::int32_t> && std::is_same_v<V, double>) {
      // (A count-only pass has no value stream.)
      if (values.data != nullptr && table_in_int32_range()) {
        chunk = tally_int32_double_chunks(keys, n, values);
      }
    }
    for (; chunk + kChunkRows <= n; chunk += kChunkRows) {
      keys.prefetch_ahead(chunk);
      values.prefetch_ahead(chunk);
      if (!chunk_in_range(keys.data + chunk)) break;
      for (std::size_t i = chunk; i < chunk + kChunkRows; ++i) tally_of(i).v += row(i);
    }
    for (std::size_t i = chunk; i < n; ++i) {
      const std::uint64_t s = slot_of(i);
      if (s >= size) return i;
      tallies[s].v += row(i);
    }
    return n;
  }

  bool table_in_int32_range() const {
    return dense_base_ >= std::numeric_limits<std::int32_t>::min() &&
           dense_base_ + static_cast<std::int64_t>(tallies_.size()) - 1 <=
               std::numeric_limits<std::int32_t>::max();
  }

  // The common case (int32 keys, f64 values, a table inside the int32 range) in whole chunks,
  // with fewer instructions per row than the generic loop, which is what bounds this loop:
  // the keys are read once, as vectors, for both the range check and the table offsets (two
  // offsets per 64-bit lane pair instead of a load, shift and add per row), and two values
  // come from one load. Returns the rows done; the caller finishes the rest.
  std::size_t tally_int32_double_chunks(Stream<std::int32_t> keys, std::size_t n,
                                        Stream<double> values) {
    constexpr std::size_t kVectors = kChunkRows / 4;
    const U32x4 base = U32x4{} + static_cast<std::uint32_t>(dense_base_);
    const std::uint64_t size = tallies_.size();
    char* table = reinterpret_cast<char*>(tallies_.data());
    const SumCount ones{1.0, 1.0};
    auto add = [table](std::uint64_t offset, SumCount row) {
      reinterpret_cast<Tally*>(table + offset)->v += row;
    };
    std::size_t chunk = 0;
    for (; chunk + kChunkRows <= n; chunk += kChunkRows) {
      keys.prefetch_ahead(chunk);
      values.prefetch_ahead(chunk);
      std::array<U32x4, kVectors> slots;
      U32x4 any{};
      for (std::size_t j = 0; j < kVectors; ++j) {
        std::memcpy(&slots[j], keys.data + chunk + 4 * j, sizeof(U32x4));
        slots[j] -= base;
        any |= slots[j];
      }
      if (or_lanes(any) >= size) break;
      for (std::size_t j = 0; j < kVectors; ++j) {
        static_assert(kDenseRangeLimit * sizeof(Tally) <= (std::uint64_t{1} << 32));
        static_assert(std::endian::native == std::endian::little, "lane 0 is the low half");
        const auto offsets = reinterpret_cast<U64x2>(slots[j] << 4);
        const double* v = values.data + chunk + 4 * j;
        SumCount v01, v23;
        std::memcpy(&v01, v, sizeof v01);
        std::memcpy(&v23, v + 2, sizeof v23);
        add(offsets[0] & 0xffffffffu, __builtin_shufflevector(ones, v01, 0, 2));
        add(offsets[0] >> 32, __builtin_shufflevector(ones, v01, 0, 3));
        add(offsets[1] & 0xffffffffu, __builtin_shufflevector(ones, v23, 0, 2));
        add(offsets[1] >> 32, __builtin_shufflevector(ones, v23, 0, 3));
      }
    }
    return chunk;
  }

  enum class SumPass { with_counts, sum_only, skip };

  // `counted`: counts (and the fused first sum) were already done by dense_prefix.
  template <typename Slots>
  void accumulate_block(Slots slot, std::size_t n, const std::vector<ValuesView>& values,
                        std::size_t offset, bool counted) {
    const bool fused = first_sum_fused();
    if (!fused && !counted) {
      Tally* tallies = tallies_.data();
      for (std::size_t i = 0; i < n; ++i) tallies[slot[i]].v += SumCount{1.0, 0.0};
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
      Tally* tallies = tallies_.data();
      for (std::size_t i = 0; i < n; ++i) {
        tallies[slot[i]].v += SumCount{1.0, static_cast<double>(v[i])};
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
  std::vector<Tally> tallies_;
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

  // Rows [0, n) with the keys of the block at b from key_block(b).
  template <typename KeyBlockAt>
  void run(std::size_t n, const std::vector<ValuesView>& values, KeyBlockAt key_block) {
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
  state_->run(keys.size(), values, [&](std::size_t b) {
    return Stream<std::int32_t>{keys.data() + b, keys.size() - b};
  });
}

void GroupBy::add(std::span<const std::int64_t> keys, const std::vector<ValuesView>& values) {
  check_values(keys.size(), values, state_->stats.size());
  state_->run(keys.size(), values, [&](std::size_t b) {
    return Stream<std::int64_t>{keys.data() + b, keys.size() - b};
  });
}

void GroupBy::add_constant_key(std::int64_t key, std::size_t count,
                               const std::vector<ValuesView>& values) {
  check_values(count, values, state_->stats.size());
  std::array<std::int64_t, kBlockRows> same_key;
  same_key.fill(key);
  state_->run(count, values, [&](std::size_t) {
    return Stream<std::int64_t>{same_key.data(), same_key.size()};
  });
}

namespace {

// Widest key range finish() merges through a dense index instead of a hash map.
constexpr std::uint64_t kDenseMergeLimit = std::uint64_t{1} << 20;

// The union of the partials' dense key ranges as {lo, size}, when every partial is dense and
// the union is small enough to index directly.
std::optional<std::pair<std::int64_t, std::size_t>> dense_union(
    const std::vector<std::unique_ptr<Partial>>& partials) {
  std::int64_t lo = std::numeric_limits<std::int64_t>::max();
  std::int64_t hi = std::numeric_limits<std::int64_t>::min();
  for (const auto& partial : partials) {
    const auto keys = partial->dense_keys();
    if (!keys) return std::nullopt;
    if (keys->first > keys->second) continue;  // no rows
    lo = std::min(lo, keys->first);
    hi = std::max(hi, keys->second);
  }
  if (lo > hi) return std::pair{std::int64_t{0}, std::size_t{0}};
  const std::uint64_t size = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo) + 1;
  if (size == 0 || size > kDenseMergeLimit) return std::nullopt;
  return std::pair{lo, static_cast<std::size_t>(size)};
}

}  // namespace

GroupByResult GroupBy::finish() const {
  const std::size_t columns = state_->stats.size();
  GroupByResult merged;
  merged.columns.resize(columns);
  auto add_group = [&](std::int64_t key) {
    merged.keys.push_back(key);
    merged.counts.push_back(0);
    for (std::size_t c = 0; c < columns; ++c) {
      auto& col = merged.columns[c];
      if (state_->stats[c] & kStatSum) col.sum.push_back(0.0);
      if (state_->stats[c] & kStatMin) col.min.push_back(kNaN);
      if (state_->stats[c] & kStatMax) col.max.push_back(kNaN);
    }
  };
  // Room for `groups` groups in every output vector, so add_group never reallocates.
  auto reserve = [&](std::size_t groups) {
    merged.keys.reserve(groups);
    merged.counts.reserve(groups);
    for (std::size_t c = 0; c < columns; ++c) {
      auto& col = merged.columns[c];
      if (state_->stats[c] & kStatSum) col.sum.reserve(groups);
      if (state_->stats[c] & kStatMin) col.min.reserve(groups);
      if (state_->stats[c] & kStatMax) col.max.reserve(groups);
    }
  };
  // Adds every partial's groups into merged group group_of(key).
  auto merge_partials = [&](auto&& group_of) {
    for (const auto& partial : state_->partials) {
      partial->for_each_group([&](std::int64_t key, std::size_t s) {
        const std::size_t g = group_of(key);
        merged.counts[g] += partial->count(s);
        for (std::size_t c = 0; c < columns; ++c) {
          const ColumnStats& from = partial->column(c);
          auto& col = merged.columns[c];
          if (state_->stats[c] & kStatSum) col.sum[g] += partial->sum(c, s);
          if (state_->stats[c] & kStatMin) take_min(col.min[g], from.min[s]);
          if (state_->stats[c] & kStatMax) take_max(col.max[g], from.max[s]);
        }
      });
    }
  };

  if (const auto range = dense_union(state_->partials)) {
    // Dense: groups are created in ascending key order, so no hashing and no sort.
    const auto [lo, size] = *range;
    constexpr std::size_t kAbsent = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> group(size, kAbsent);
    auto index_of = [lo = lo](std::int64_t key) {
      return static_cast<std::size_t>(static_cast<std::uint64_t>(key) -
                                      static_cast<std::uint64_t>(lo));
    };
    std::size_t present = 0;
    for (const auto& partial : state_->partials) {
      partial->for_each_group([&](std::int64_t key, std::size_t) {
        present += group[index_of(key)] == kAbsent;
        group[index_of(key)] = 0;
      });
    }
    reserve(present);
    for (std::size_t i = 0; i < size; ++i) {
      if (group[i] == kAbsent) continue;
      group[i] = merged.keys.size();
      add_group(lo + static_cast<std::int64_t>(i));
    }
    merge_partials([&](std::int64_t key) { return group[index_of(key)]; });
    return merged;
  }

  std::unordered_map<std::int64_t, std::size_t> index;
  merge_partials([&](std::int64_t key) {
    auto [it, inserted] = index.try_emplace(key, merged.keys.size());
    if (inserted) add_group(key);
    return it->second;
  });
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
