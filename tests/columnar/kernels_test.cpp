// Columnar kernels against naive reference implementations on random data, plus edge cases.
#include "edgeperf/columnar/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <vector>

#include "edgeperf/core/error.h"

namespace edgeperf::columnar {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

template <typename T>
std::vector<T> random_values(std::size_t n, std::uint64_t seed, double lo = -10, double hi = 10) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(dist(rng));
  return v;
}

template <typename K>
std::vector<K> random_keys(std::size_t n, std::uint64_t seed, std::int64_t lo, std::int64_t hi) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::int64_t> dist(lo, hi);
  std::vector<K> v(n);
  for (auto& x : v) x = static_cast<K>(dist(rng));
  return v;
}

// Equal, or both NaN.
bool same(double a, double b, double tol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= tol * std::max(1.0, std::fabs(b));
}

// ---- elementwise ----

template <typename T>
T reference_op(BinaryOp op, T x, T y) {
  switch (op) {
    case BinaryOp::add:
      return x + y;
    case BinaryOp::sub:
      return x - y;
    case BinaryOp::mul:
      return x * y;
    case BinaryOp::div:
      return x / y;
  }
  return 0;
}

template <typename T>
void check_elementwise(std::size_t n, StorePolicy store, int threads) {
  const auto a = random_values<T>(n, 1);
  const auto b = random_values<T>(n, 2, 0.5, 4);
  for (BinaryOp op : {BinaryOp::add, BinaryOp::sub, BinaryOp::mul, BinaryOp::div}) {
    std::vector<T> out(n, T(-7)), out_scalar(n, T(-7));
    elementwise(op, std::span<const T>(a), std::span<const T>(b), std::span<T>(out), threads,
                store);
    elementwise_scalar(op, std::span<const T>(a), T(3), std::span<T>(out_scalar), threads, store);
    for (std::size_t i = 0; i < n; ++i) {
      ASSERT_EQ(out[i], reference_op(op, a[i], b[i])) << "op " << int(op) << " row " << i;
      ASSERT_EQ(out_scalar[i], reference_op(op, a[i], T(3))) << "op " << int(op) << " row " << i;
    }
  }
}

TEST(Elementwise, MatchesScalarLoopAllPoliciesAndSizes) {
  for (std::size_t n : {0, 1, 7, 63, 1000, 70001}) {
    for (StorePolicy store :
         {StorePolicy::automatic, StorePolicy::regular, StorePolicy::streaming}) {
      for (int threads : {1, 3}) {
        check_elementwise<float>(n, store, threads);
        check_elementwise<double>(n, store, threads);
      }
    }
  }
}

TEST(Elementwise, UnalignedOutputWithStreamingStores) {
  const std::size_t n = 200003;
  const auto a = random_values<float>(n + 1, 3);
  const auto b = random_values<float>(n + 1, 4);
  std::vector<float> out(n + 1, 0.0f);
  elementwise(BinaryOp::mul, std::span<const float>(a).subspan(1),
              std::span<const float>(b).subspan(1), std::span<float>(out).subspan(1), 2,
              StorePolicy::streaming);
  EXPECT_EQ(out[0], 0.0f);
  for (std::size_t i = 1; i <= n; ++i) ASSERT_EQ(out[i], a[i] * b[i]) << i;
}

TEST(Elementwise, InPlaceAndNaN) {
  std::vector<double> a = {1, kNaN, 3, 4};
  const std::vector<double> b = {2, 2, kNaN, 0};
  elementwise(BinaryOp::div, std::span<const double>(a), std::span<const double>(b),
              std::span<double>(a), 1);
  EXPECT_EQ(a[0], 0.5);
  EXPECT_TRUE(std::isnan(a[1]));
  EXPECT_TRUE(std::isnan(a[2]));
  EXPECT_TRUE(std::isinf(a[3]));
}

TEST(Elementwise, LengthMismatchIsError) {
  std::vector<float> a(4), b(5), out(4);
  EXPECT_THROW(elementwise(BinaryOp::add, std::span<const float>(a), std::span<const float>(b),
                           std::span<float>(out)),
               Error);
  EXPECT_THROW(
      elementwise_scalar(BinaryOp::add, std::span<const float>(b), 1.0f, std::span<float>(out)),
      Error);
}

// ---- groupby ----

struct RefGroup {
  std::int64_t count = 0;
  double sum = 0, min = kNaN, max = kNaN;
};

template <typename K, typename V>
std::map<std::int64_t, RefGroup> reference_groupby(const std::vector<K>& keys,
                                                   const std::vector<V>& values) {
  std::map<std::int64_t, RefGroup> groups;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    RefGroup& g = groups[keys[i]];
    const double v = values[i];
    ++g.count;
    g.sum += v;
    if (!std::isnan(v)) {
      g.min = std::isnan(g.min) ? v : std::min(g.min, v);
      g.max = std::isnan(g.max) ? v : std::max(g.max, v);
    }
  }
  return groups;
}

void expect_matches(const GroupByResult& got, const std::map<std::int64_t, RefGroup>& want,
                    std::size_t column = 0) {
  ASSERT_EQ(got.num_groups(), want.size());
  std::size_t g = 0;
  for (const auto& [key, ref] : want) {
    ASSERT_EQ(got.keys[g], key) << "group " << g;
    ASSERT_EQ(got.counts[g], ref.count) << "key " << key;
    const auto& col = got.columns[column];
    ASSERT_TRUE(same(col.sum[g], ref.sum, 1e-9))
        << "sum key " << key << ": " << col.sum[g] << " vs " << ref.sum;
    ASSERT_TRUE(same(col.min[g], ref.min, 0)) << "min key " << key;
    ASSERT_TRUE(same(col.max[g], ref.max, 0)) << "max key " << key;
    ASSERT_TRUE(same(got.mean(column, g), ref.sum / ref.count, 1e-9)) << "mean key " << key;
    ++g;
  }
}

constexpr unsigned kAll = kStatSum | kStatMin | kStatMax;

TEST(GroupBy, DensePathInt32MatchesReference) {
  const auto keys = random_keys<std::int32_t>(300000, 5, -50, 949);
  const auto values = random_values<double>(keys.size(), 6);
  for (int threads : {1, 2, 4}) {
    expect_matches(groupby(std::span<const std::int32_t>(keys), std::span<const double>(values),
                           kAll, threads),
                   reference_groupby(keys, values));
  }
}

TEST(GroupBy, HashPathInt64WideKeysMatchesReference) {
  auto keys = random_keys<std::int64_t>(200000, 7, -(std::int64_t{1} << 60), std::int64_t{1} << 60);
  // Repeat some keys so groups have more than one row.
  for (std::size_t i = 0; i < keys.size(); i += 3) keys[i] = keys[i / 7];
  const auto values = random_values<float>(keys.size(), 8);
  for (int threads : {1, 2, 3}) {
    expect_matches(
        groupby(std::span<const std::int64_t>(keys), std::span<const float>(values), kAll, threads),
        reference_groupby(keys, values));
  }
}

TEST(GroupBy, SwitchesFromDenseToHashMidStream) {
  // Small range first (dense), then keys far apart: the partial converts to a hash table.
  std::vector<std::int64_t> keys = random_keys<std::int64_t>(100000, 9, 0, 99);
  const auto far = random_keys<std::int64_t>(100000, 10, 0, std::int64_t{1} << 40);
  keys.insert(keys.end(), far.begin(), far.end());
  const auto values = random_values<double>(keys.size(), 11);
  GroupBy g({kAll}, 2);
  const std::size_t half = 120000;
  g.add(std::span<const std::int64_t>(keys).first(half),
        {std::span<const double>(values).first(half)});
  g.add(std::span<const std::int64_t>(keys).subspan(half),
        {std::span<const double>(values).subspan(half)});
  expect_matches(g.finish(), reference_groupby(keys, values));
}

TEST(GroupBy, DenseRangeGrowsDownwardAndUpward) {
  std::vector<std::int32_t> keys;
  for (int i = 0; i < 50000; ++i) keys.push_back(10000 - i);  // drifting down
  for (int i = 0; i < 50000; ++i) keys.push_back(i * 3);      // then up
  const auto values = random_values<double>(keys.size(), 12);
  expect_matches(
      groupby(std::span<const std::int32_t>(keys), std::span<const double>(values), kAll, 1),
      reference_groupby(keys, values));
  // Without a sum the counts take their own pass (no fused first-column loop).
  const GroupByResult r = groupby(std::span<const std::int32_t>(keys),
                                  std::span<const double>(values), kStatMin | kStatMax, 2);
  const auto ref = reference_groupby(keys, values);
  ASSERT_EQ(r.num_groups(), ref.size());
  EXPECT_TRUE(r.columns[0].sum.empty());
  std::size_t g = 0;
  for (const auto& [key, want] : ref) {
    ASSERT_EQ(r.keys[g], key);
    ASSERT_EQ(r.counts[g], want.count) << key;
    ASSERT_EQ(r.columns[0].min[g], want.min) << key;
    ASSERT_EQ(r.columns[0].max[g], want.max) << key;
    ++g;
  }
}

TEST(GroupBy, DenseKeysAtTheInt32LimitsMatchReference) {
  // The dense table may extend past the int32 range (slack below INT32_MIN); the chunk range
  // check must then fall back from 32-bit differences.
  constexpr std::int64_t kMin = std::numeric_limits<std::int32_t>::min();
  constexpr std::int64_t kMax = std::numeric_limits<std::int32_t>::max();
  std::vector<std::int32_t> keys;
  auto add_keys = [&](std::int64_t lo, std::int64_t span, std::size_t rows) {
    for (std::size_t i = 0; i < rows; ++i) {
      keys.push_back(static_cast<std::int32_t>(lo + static_cast<std::int64_t>(i * 7919) % span));
    }
  };
  add_keys(kMin + 100, 100, 10000);  // dense from INT32_MIN + 100
  add_keys(kMin, 100, 10000);        // grows down, with slack below INT32_MIN
  // Keys near INT32_MAX: in 32 bits they would alias slots of that table.
  for (std::size_t i = 0; i < 10000; ++i) {
    keys.push_back(static_cast<std::int32_t>(i % 16 == 7 ? kMax - static_cast<std::int64_t>(i % 8)
                                                         : kMin + 50));
  }
  const auto values = random_values<double>(keys.size(), 21);
  for (int threads : {1, 2}) {
    expect_matches(groupby(std::span<const std::int32_t>(keys), std::span<const double>(values),
                           kAll, threads),
                   reference_groupby(keys, values));
  }
}

TEST(GroupBy, StrayKeyInsideAChunkMatchesReference) {
  // Dense keys with one key far out of range every few thousand rows, at varying positions
  // within a 16-row chunk: the chunk check must catch it whatever its lane.
  std::vector<std::int32_t> keys = random_keys<std::int32_t>(200000, 22, 0, 999);
  // Strays above and below the table, close enough that it grows instead of turning to hash.
  for (std::size_t i = 5000; i < keys.size(); i += 4099) {
    keys[i] =
        static_cast<std::int32_t>(i % 2 ? 1000 + i % 100000 : -1 - static_cast<long>(i % 777));
  }
  std::vector<std::int64_t> wide(keys.begin(), keys.end());
  const auto values = random_values<float>(keys.size(), 23);
  const auto doubles = random_values<double>(keys.size(), 27);
  for (int threads : {1, 2}) {
    expect_matches(
        groupby(std::span<const std::int32_t>(keys), std::span<const float>(values), kAll, threads),
        reference_groupby(keys, values));
    // f64 values with int32 keys take their own chunk loop.
    expect_matches(groupby(std::span<const std::int32_t>(keys), std::span<const double>(doubles),
                           kAll, threads),
                   reference_groupby(keys, doubles));
    expect_matches(groupby(std::span<const std::int64_t>(wide), std::span<const float>(values),
                           kStatSum | kStatMin | kStatMax, threads),
                   reference_groupby(wide, values));
  }
}

TEST(GroupBy, KeyOnePastTheTableInAChunkOfBaseKeysMatchesReference) {
  // The first 4096-row block holds keys 0..1023: a 1024-slot table. Then a chunk of key 0
  // with one key 1024 at `lane`: the chunk's OR of slots is exactly the table size. The
  // table grows at the first such key, so each lane gets a fresh group-by.
  for (std::size_t lane = 0; lane < 16; ++lane) {
    SCOPED_TRACE("key 1024 at lane " + std::to_string(lane));
    std::vector<std::int32_t> keys(4096 + 64, 0);
    for (std::size_t i = 0; i < 4096; ++i) keys[i] = static_cast<std::int32_t>(i % 1024);
    keys[4096 + 16 + lane] = 1024;
    const auto values = random_values<double>(keys.size(), 28 + lane);
    expect_matches(
        groupby(std::span<const std::int32_t>(keys), std::span<const double>(values), kAll, 1),
        reference_groupby(keys, values));
  }
}

TEST(GroupBy, DensePartialsFarApartMatchReference) {
  // Each thread's partial stays dense, but their ranges are far apart: finish() must not
  // index the union directly.
  std::vector<std::int64_t> keys = random_keys<std::int64_t>(100000, 24, -500, 500);
  const auto far =
      random_keys<std::int64_t>(100000, 25, std::int64_t{1} << 40, (std::int64_t{1} << 40) + 999);
  keys.insert(keys.end(), far.begin(), far.end());
  const auto values = random_values<double>(keys.size(), 26);
  expect_matches(
      groupby(std::span<const std::int64_t>(keys), std::span<const double>(values), kAll, 2),
      reference_groupby(keys, values));
}

TEST(GroupBy, MultipleColumnsAndBatches) {
  const auto keys = random_keys<std::int32_t>(90000, 13, 0, 30);
  const auto a = random_values<double>(keys.size(), 14);
  const auto b = random_values<float>(keys.size(), 15);
  GroupBy g({kStatSum, kStatMin | kStatMax}, 2);
  for (std::size_t start = 0; start < keys.size(); start += 25000) {
    const std::size_t n = std::min<std::size_t>(25000, keys.size() - start);
    g.add(std::span<const std::int32_t>(keys).subspan(start, n),
          {std::span<const double>(a).subspan(start, n),
           std::span<const float>(b).subspan(start, n)});
  }
  const GroupByResult r = g.finish();
  const auto ra = reference_groupby(keys, a);
  const auto rb = reference_groupby(keys, b);
  ASSERT_EQ(r.num_groups(), ra.size());
  EXPECT_TRUE(r.columns[0].min.empty());
  EXPECT_TRUE(r.columns[1].sum.empty());
  std::size_t i = 0;
  for (const auto& [key, ref] : ra) {
    EXPECT_TRUE(same(r.columns[0].sum[i], ref.sum, 1e-9));
    EXPECT_EQ(r.columns[1].min[i], rb.at(key).min);
    EXPECT_EQ(r.columns[1].max[i], rb.at(key).max);
    ++i;
  }
  EXPECT_THROW(r.mean(1, 0), Error);
}

TEST(GroupBy, EmptyOneRowAllSameKeyNegativeKeys) {
  const std::vector<std::int32_t> none;
  const std::vector<double> no_values;
  EXPECT_EQ(groupby(std::span<const std::int32_t>(none), std::span<const double>(no_values), kAll)
                .num_groups(),
            0u);
  const std::vector<std::int64_t> one = {-5};
  const std::vector<double> one_value = {2.5};
  expect_matches(
      groupby(std::span<const std::int64_t>(one), std::span<const double>(one_value), kAll),
      reference_groupby(one, one_value));
  const std::vector<std::int32_t> same_key(100000, -7);
  const auto values = random_values<double>(same_key.size(), 16);
  expect_matches(
      groupby(std::span<const std::int32_t>(same_key), std::span<const double>(values), kAll, 2),
      reference_groupby(same_key, values));
  const std::vector<std::int64_t> extremes = {std::numeric_limits<std::int64_t>::min(),
                                              std::numeric_limits<std::int64_t>::max(), -1, 0,
                                              std::numeric_limits<std::int64_t>::min()};
  const std::vector<double> ev = {1, 2, 3, 4, 5};
  expect_matches(
      groupby(std::span<const std::int64_t>(extremes), std::span<const double>(ev), kAll),
      reference_groupby(extremes, ev));
}

TEST(GroupBy, NaNValues) {
  const std::vector<std::int32_t> keys = {1, 1, 2, 2, 3};
  const std::vector<double> values = {kNaN, 4.0, kNaN, kNaN, 1.0};
  const GroupByResult r =
      groupby(std::span<const std::int32_t>(keys), std::span<const double>(values), kAll, 1);
  expect_matches(r, reference_groupby(keys, values));
  EXPECT_TRUE(std::isnan(r.columns[0].sum[0]));  // sum propagates NaN
  EXPECT_EQ(r.columns[0].min[0], 4.0);           // min skips it
  EXPECT_TRUE(std::isnan(r.columns[0].max[1]));  // all NaN
  EXPECT_EQ(r.counts[1], 2);
}

TEST(GroupBy, ConstantKeyBatches) {
  const auto values = random_values<double>(20000, 17);
  GroupBy g({kAll}, 2);
  g.add_constant_key(42, values.size(), {std::span<const double>(values)});
  const std::vector<std::int64_t> keys(values.size(), 42);
  expect_matches(g.finish(), reference_groupby(keys, values));
}

TEST(GroupBy, BadInputIsError) {
  const std::vector<std::int32_t> keys = {1, 2};
  const std::vector<double> values = {1.0};
  EXPECT_THROW(groupby(std::span<const std::int32_t>(keys), std::span<const double>(values), kAll),
               Error);
  GroupBy g({kAll, kAll});
  EXPECT_THROW(g.add(std::span<const std::int32_t>(keys), {std::span<const double>(values)}),
               Error);
}

// ---- rolling ----

template <typename T>
std::vector<double> reference_rolling(const std::vector<T>& in, std::size_t w, bool rms) {
  std::vector<double> out(in.size(), kNaN);
  for (std::size_t i = w - 1; i < in.size(); ++i) {
    long double s = 0;
    for (std::size_t j = i + 1 - w; j <= i; ++j) s += rms ? (long double)in[j] * in[j] : in[j];
    const double mean = static_cast<double>(s / w);
    out[i] = rms ? std::sqrt(mean) : mean;
  }
  return out;
}

TEST(Rolling, MeanAndRmsMatchReference) {
  const auto values = random_values<double>(200000, 18, -1000, 1000);
  for (std::size_t w : {1, 2, 17, 1000}) {
    for (bool rms : {false, true}) {
      std::vector<double> out(values.size());
      if (rms) {
        rolling_rms(std::span<const double>(values), w, std::span<double>(out), 2);
      } else {
        rolling_mean(std::span<const double>(values), w, std::span<double>(out), 2);
      }
      const auto want = reference_rolling(values, w, rms);
      for (std::size_t i = 0; i < values.size(); ++i) {
        ASSERT_TRUE(same(out[i], want[i], 1e-9)) << "w " << w << " rms " << rms << " row " << i;
      }
    }
  }
}

TEST(Rolling, FloatAndLargeOffsetStaysAccurate) {
  // A large common offset is where naive running sums drift; compensation keeps it tight.
  std::vector<double> values = random_values<double>(300000, 19, 0, 1);
  for (auto& v : values) v += 1e9;
  std::vector<double> out(values.size());
  rolling_mean(std::span<const double>(values), 100, std::span<double>(out), 1);
  const auto want = reference_rolling(values, 100, false);
  for (std::size_t i = 99; i < values.size(); ++i) ASSERT_NEAR(out[i], want[i], 1e-6) << i;

  const auto f = random_values<float>(5000, 20);
  std::vector<float> fout(f.size());
  rolling_rms(std::span<const float>(f), 10, std::span<float>(fout), 1);
  const auto fwant = reference_rolling(f, 10, true);
  for (std::size_t i = 9; i < f.size(); ++i) ASSERT_NEAR(fout[i], fwant[i], 1e-5) << i;
}

TEST(Rolling, NaNOnlyPoisonsWindowsThatHoldIt) {
  std::vector<double> values = {1, 2, kNaN, 4, 5, 6};
  std::vector<double> out(values.size());
  rolling_mean(std::span<const double>(values), 2, std::span<double>(out), 1);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_EQ(out[1], 1.5);
  EXPECT_TRUE(std::isnan(out[2]));
  EXPECT_TRUE(std::isnan(out[3]));
  EXPECT_EQ(out[4], 4.5);
  EXPECT_EQ(out[5], 5.5);
  values = {1, std::numeric_limits<double>::infinity(), 1, 1};
  rolling_mean(std::span<const double>(values).first(4), 2, std::span<double>(out).first(4), 1);
  EXPECT_TRUE(std::isinf(out[1]));
  EXPECT_TRUE(std::isinf(out[2]));
  EXPECT_EQ(out[3], 1.0);
}

TEST(Rolling, EdgeCases) {
  std::vector<double> empty, out_empty;
  rolling_mean(std::span<const double>(empty), 3, std::span<double>(out_empty));
  std::vector<double> one = {4}, out(1);
  rolling_rms(std::span<const double>(one), 1, std::span<double>(out));
  EXPECT_EQ(out[0], 4);
  rolling_mean(std::span<const double>(one), 5, std::span<double>(out));  // window > rows
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_THROW(rolling_mean(std::span<const double>(one), 0, std::span<double>(out)), Error);
  std::vector<double> two(2);
  EXPECT_THROW(rolling_mean(std::span<const double>(one), 1, std::span<double>(two)), Error);
}

// ---- as-of ----

std::vector<std::int64_t> sorted_ts(std::size_t n, std::uint64_t seed, std::int64_t step) {
  auto ts = random_keys<std::int64_t>(n, seed, 0, step);
  std::int64_t t = -1000;
  for (auto& x : ts) x = (t += x);  // non-decreasing, with duplicates when the step is 0
  return ts;
}

TEST(Asof, MatchesLinearScanReference) {
  const auto left = sorted_ts(150000, 21, 10);
  const auto right = sorted_ts(90000, 22, 17);
  for (std::optional<std::int64_t> tol :
       {std::optional<std::int64_t>{}, std::optional<std::int64_t>{3},
        std::optional<std::int64_t>{0}}) {
    std::vector<std::int64_t> got(left.size());
    asof_indices(left, right, got, tol, 2);
    // The quadratic reference on a prefix, the defining property on every row.
    for (std::size_t i = 0; i < 2000; ++i) {
      std::int64_t want = -1;
      for (std::size_t j = 0; j < right.size() && right[j] <= left[i]; ++j)
        want = static_cast<std::int64_t>(j);
      if (want >= 0 && tol && left[i] - right[static_cast<std::size_t>(want)] > *tol) want = -1;
      ASSERT_EQ(got[i], want) << "row " << i;
    }
    for (std::size_t i = 0; i < left.size(); ++i) {
      const std::int64_t k = got[i];
      if (k >= 0) {
        ASSERT_LE(right[static_cast<std::size_t>(k)], left[i]);
        if (static_cast<std::size_t>(k) + 1 < right.size()) {
          ASSERT_GT(right[static_cast<std::size_t>(k) + 1], left[i]);
        }
      } else if (!tol) {
        ASSERT_TRUE(right.empty() || right[0] > left[i]);
      }
    }
  }
}

TEST(Asof, GatherAndEdgeCases) {
  const std::vector<std::int64_t> left = {0, 5, 10, 15};
  const std::vector<std::int64_t> right = {5, 5, 12};
  std::vector<std::int64_t> idx(left.size());
  asof_indices(left, right, idx);
  EXPECT_EQ(idx, (std::vector<std::int64_t>{-1, 1, 1, 2}));  // last of duplicate ts
  asof_indices(left, right, idx, std::int64_t{2});
  EXPECT_EQ(idx, (std::vector<std::int64_t>{-1, 1, -1, -1}));
  const std::vector<double> values = {1.5, 2.5, 3.5};
  std::vector<double> out(idx.size());
  gather(values, idx, out);
  EXPECT_TRUE(std::isnan(out[0]));
  EXPECT_EQ(out[1], 2.5);

  const std::vector<std::int64_t> empty;
  std::vector<std::int64_t> none;
  asof_indices(empty, right, none);
  asof_indices(left, empty, idx);
  EXPECT_EQ(idx, (std::vector<std::int64_t>(4, -1)));
  const std::vector<std::int64_t> bad_index = {0, 3};
  std::vector<double> two(2);
  EXPECT_THROW(gather(values, bad_index, two), Error);
}

TEST(Asof, UnsortedTimestampsRejected) {
  const std::vector<std::int64_t> sorted = {1, 2, 3};
  const std::vector<std::int64_t> unsorted = {1, 3, 2};
  std::vector<std::int64_t> idx(3);
  EXPECT_THROW(asof_indices(unsorted, sorted, idx), Error);
  EXPECT_THROW(asof_indices(sorted, unsorted, idx), Error);
  try {
    check_sorted(unsorted, "imu.ts");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("imu.ts"), std::string::npos) << e.what();
  }
  EXPECT_THROW(asof_indices(sorted, sorted, idx, std::int64_t{-1}), Error);
}

// ---- resample ----

TEST(Resample, MeanAndLastMatchReference) {
  const auto ts = sorted_ts(300000, 23, 7);
  const auto values = random_values<double>(ts.size(), 24);
  const std::int64_t period = 25;
  for (ResampleMode mode : {ResampleMode::mean, ResampleMode::last}) {
    const Resampled r = resample(ts, values, period, mode, 2);
    std::map<std::int64_t, std::pair<double, int>> ref;  // bucket start -> (sum or last, count)
    for (std::size_t i = 0; i < ts.size(); ++i) {
      const std::int64_t b = static_cast<std::int64_t>(std::floor(double(ts[i]) / period)) * period;
      auto& e = ref[b];
      e.first = mode == ResampleMode::mean ? e.first + values[i] : values[i];
      ++e.second;
    }
    ASSERT_EQ(r.bucket_start.front(), ref.begin()->first);
    ASSERT_EQ(r.bucket_start.back(), ref.rbegin()->first);
    for (std::size_t k = 0; k < r.bucket_start.size(); ++k) {
      ASSERT_EQ(r.bucket_start[k], r.bucket_start[0] + static_cast<std::int64_t>(k) * period);
      auto it = ref.find(r.bucket_start[k]);
      if (it == ref.end()) {
        ASSERT_TRUE(std::isnan(r.values[k])) << k;
      } else {
        const double want =
            mode == ResampleMode::mean ? it->second.first / it->second.second : it->second.first;
        ASSERT_TRUE(same(r.values[k], want, 1e-12)) << k;
      }
    }
  }
}

TEST(Resample, EdgeCases) {
  const std::vector<std::int64_t> none;
  const std::vector<double> no_values;
  EXPECT_TRUE(resample(none, no_values, 10, ResampleMode::mean).values.empty());
  const std::vector<std::int64_t> one = {-15};
  const std::vector<double> v = {kNaN};
  const Resampled r = resample(one, v, 10, ResampleMode::last);
  ASSERT_EQ(r.bucket_start, (std::vector<std::int64_t>{-20}));
  EXPECT_TRUE(std::isnan(r.values[0]));
  const std::vector<std::int64_t> unsorted = {5, 1};
  const std::vector<double> two = {1, 2};
  EXPECT_THROW(resample(unsorted, two, 10, ResampleMode::mean), Error);
  EXPECT_THROW(resample(one, v, 0, ResampleMode::mean), Error);
  EXPECT_THROW(resample(one, two, 10, ResampleMode::mean), Error);
  const std::vector<std::int64_t> huge = {0, std::int64_t{1} << 62};
  EXPECT_THROW(resample(huge, two, 1, ResampleMode::mean), Error);
}

}  // namespace
}  // namespace edgeperf::columnar
