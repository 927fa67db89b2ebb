#include "edgeperf/core/tensor.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "edgeperf/core/random.h"

namespace edgeperf {
namespace {

TEST(Shape, ElementCountRejectsOverflowAndNegatives) {
  EXPECT_EQ(element_count({2, 3, 4}), 24);
  EXPECT_EQ(element_count({}), 1);
  EXPECT_EQ(element_count({5, 0, std::int64_t{1} << 62}), 0);
  EXPECT_THROW(element_count({std::int64_t{1} << 40}), Error);
  EXPECT_THROW(element_count({std::int64_t{1} << 31, std::int64_t{1} << 31}), Error);
  EXPECT_THROW(element_count({3, -1}), Error);
}

TEST(Tensor, TypedAccessChecksDtype) {
  Tensor tensor(DType::f32, {2, 2});
  EXPECT_EQ(tensor.nbytes(), 16u);
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(tensor.raw()) % 64, 0u);
  EXPECT_THROW(tensor.data<std::int64_t>(), Error);
  EXPECT_EQ(tensor.values<float>()[3], 0.0f);
}

TEST(Tensor, CloneCopiesAndReshapeShares) {
  Tensor tensor = make_tensor<float>({2, 2}, {1, 2, 3, 4});
  Tensor copy = tensor.clone();
  Tensor flat = tensor.reshaped({4});
  tensor.data<float>()[0] = 9;
  EXPECT_EQ(copy.values<float>()[0], 1.0f);
  EXPECT_EQ(flat.values<float>()[0], 9.0f);
  EXPECT_THROW(tensor.reshaped({5}), Error);
}

// Resident pages of this process, from /proc/self/statm; -1 where that is not readable.
long resident_pages() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = -1;
  statm >> size >> resident;
  return statm ? resident : -1;
}

// A placeholder costs no resident memory until read (a zeroed buffer would: it is
// written). Reading it gives zeros; whether reading maps the kernel's shared zero page
// or fresh pages depends on the kernel (6.18 in a Firecracker VM gives fresh pages), so
// the plan makes sure nothing reads one (Plan::placeholders_unread).
TEST(Tensor, ReadOnlyZerosTakeNoResidentMemoryAndReadZero) {
  constexpr std::int64_t kFloats = std::int64_t{16} << 20;  // 64 MiB
  const long before = resident_pages();
  const Tensor zeros = Tensor::read_only_zeros(DType::f32, {kFloats});
  const Tensor copy = zeros;  // copies share the mapping
  const long after = resident_pages();
  EXPECT_EQ(copy.raw(), zeros.raw());
  EXPECT_EQ(zeros.nbytes(), static_cast<std::size_t>(kFloats) * 4);
  double sum = 0;
  for (float value : zeros.values<float>()) sum += value;
  EXPECT_EQ(sum, 0.0);
  if (before < 0 || after < 0) GTEST_SKIP() << "no /proc/self/statm";
  const long page_bytes = sysconf(_SC_PAGESIZE);
  EXPECT_LT((after - before) * page_bytes, 16l << 20) << "making the placeholder took memory";
}

TEST(Half, ConvertsExactlyRepresentableValuesAndSpecials) {
  for (float value : {0.0f, -0.0f, 1.0f, -2.5f, 65504.0f, 0.000061035156f, 5.9604645e-08f}) {
    EXPECT_EQ(half_to_float(float_to_half(value)), value) << value;
  }
  EXPECT_TRUE(std::isinf(half_to_float(float_to_half(1e6f))));
  EXPECT_TRUE(std::isnan(half_to_float(float_to_half(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(float_to_half(1.0f), 0x3c00);
  // 1 + 2^-11 is a tie between 1 and 1 + 2^-10: rounds to even (1.0).
  EXPECT_EQ(float_to_half(1.0f + 0.00048828125f), 0x3c00);
}

TEST(Half, EveryHalfValueRoundTrips) {
  for (std::uint32_t bits = 0; bits <= 0xffff; ++bits) {
    const auto half = static_cast<float16_bits>(bits);
    const float value = half_to_float(half);
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(half_to_float(float_to_half(value))));
      continue;
    }
    ASSERT_EQ(float_to_half(value), half) << "bits 0x" << std::hex << bits;
  }
  // Halfway between the two smallest subnormals rounds to even; just above rounds up.
  EXPECT_EQ(float_to_half(1.5f * 5.9604645e-08f), 0x0002);
  EXPECT_EQ(float_to_half(0.5f * 5.9604645e-08f), 0x0000);
  EXPECT_EQ(float_to_half(0.51f * 5.9604645e-08f), 0x0001);
}

TEST(Random, SameSeedSameData) {
  const Tensor a = random_tensor(DType::f32, {100}, 7);
  const Tensor b = random_tensor(DType::f32, {100}, 7);
  const Tensor c = random_tensor(DType::f32, {100}, 8);
  EXPECT_EQ(std::memcmp(a.raw(), b.raw(), a.nbytes()), 0);
  EXPECT_NE(std::memcmp(a.raw(), c.raw(), a.nbytes()), 0);
  for (float value : a.values<float>()) {
    EXPECT_GE(value, -1.0f);
    EXPECT_LT(value, 1.0f);
  }
}

}  // namespace
}  // namespace edgeperf
