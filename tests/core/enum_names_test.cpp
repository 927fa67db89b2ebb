#include "edgeperf/core/enum_names.h"

#include <gtest/gtest.h>

#include "edgeperf/core/dtype.h"

namespace edgeperf {
namespace {

enum class Color { red, green, blue, unlisted };

constexpr auto kColors = enum_names<Color>(
    "color", {{Color::red, "red"}, {Color::green, "green"}, {Color::blue, "blue"}});

TEST(EnumNames, BothDirections) {
  EXPECT_EQ(kColors.name(Color::green), "green");
  EXPECT_EQ(kColors.parse("blue"), Color::blue);
  EXPECT_EQ(kColors.find("red"), Color::red);
  EXPECT_EQ(kColors.find("Red"), std::nullopt);
  static_assert(kColors.name(Color::red) == "red");
}

TEST(EnumNames, UnknownNameListsTheTable) {
  try {
    kColors.parse("pink");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "unknown color 'pink' (expected red, green or blue)");
  }
  constexpr auto kTwo = enum_names<Color>("color", {{Color::red, "r"}, {Color::blue, "b"}});
  EXPECT_EQ(kTwo.expected(), "r or b");
}

TEST(EnumNames, ValueMissingFromTheTable) {
  EXPECT_EQ(kColors.name(Color::unlisted), "?");
  constexpr auto kNamed = enum_names<Color>("color", {{Color::red, "red"}}, "unknown");
  EXPECT_EQ(kNamed.name(Color::blue), "unknown");
}

TEST(EnumNames, DTypeNamesRoundTrip) {
  for (DType dtype :
       {DType::f32, DType::f16, DType::i8, DType::u8, DType::i32, DType::i64, DType::boolean}) {
    EXPECT_EQ(parse_dtype(dtype_name(dtype)), dtype);
  }
  EXPECT_EQ(dtype_name(DType::boolean), "bool");
  EXPECT_THROW(parse_dtype("f64"), Error);
}

}  // namespace
}  // namespace edgeperf
