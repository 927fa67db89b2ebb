// A primitive made on two threads, made again on one (one_thread_primitive.h): the same
// implementation and layouts, the same results, and the one-thread sizing (a brgemm
// conv's scratchpad holds a buffer per thread); otherwise none.
#include "one_thread_primitive.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgeperf/runtime/scoped_omp_threads.h"

namespace edgeperf::runtime::onednn {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

struct Conv {
  dnnl::convolution_forward::primitive_desc pd;
  dnnl::primitive primitive;
};

Conv make_conv(const dnnl::engine& engine, dt type, int kernel, int threads) {
  const ScopedOmpThreads scoped(threads);
  const memory::dims src = {1, 32, 14, 14}, weights = {64, 32, kernel, kernel},
                     dst = {1, 64, 14, 14};
  const dt weight_type = type == dt::u8 ? dt::s8 : type;
  const int pad = kernel / 2;
  const dnnl::convolution_forward::desc desc(
      dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
      memory::desc(src, type, tag::any), memory::desc(weights, weight_type, tag::any),
      memory::desc(dst, type == dt::u8 ? dt::f32 : type, tag::any), {1, 1}, {pad, pad}, {pad, pad});
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  dnnl::post_ops post_ops;
  post_ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
  attr.set_post_ops(post_ops);
  dnnl::convolution_forward::primitive_desc pd(desc, attr, engine);
  return {pd, dnnl::convolution_forward(pd)};
}

std::string implementation(const dnnl::primitive& primitive) {
  const char* info = nullptr;
  dnnl_primitive_desc_query(primitive.get_primitive_desc(), dnnl_query_impl_info_str, 0, &info);
  return info == nullptr ? "" : info;
}

// Small values of the descriptor's type: floats in [-1, 1], bytes in [0, 60].
memory filled(const memory::desc& md, const dnnl::engine& engine, unsigned seed) {
  memory result(md, engine);
  if (md.data_type() == dt::f32) {
    auto* values = static_cast<float*>(result.get_data_handle());
    for (std::size_t i = 0; i < md.get_size() / sizeof(float); ++i)
      values[i] = static_cast<float>((i * 37 + seed) % 61) / 30.0f - 1.0f;
  } else {
    auto* bytes = static_cast<unsigned char*>(result.get_data_handle());
    for (std::size_t i = 0; i < md.get_size(); ++i)
      bytes[i] = static_cast<unsigned char>((i * 37 + seed) % 61);
  }
  return result;
}

// The conv's f32 output on the filled inputs.
std::vector<float> run(const dnnl::primitive& primitive, const Conv& conv,
                       const memory::desc& scratchpad, const dnnl::engine& engine, int threads) {
  const ScopedOmpThreads scoped(threads);
  dnnl::stream stream(engine);
  const memory dst(conv.pd.dst_desc(), engine);
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, filled(conv.pd.src_desc(), engine, 1)},
      {DNNL_ARG_WEIGHTS, filled(conv.pd.weights_desc(), engine, 2)},
      {DNNL_ARG_DST, dst}};
  if (scratchpad.get_size() > 0) args.emplace(DNNL_ARG_SCRATCHPAD, memory(scratchpad, engine));
  primitive.execute(stream, args);
  stream.wait();
  const auto* values = static_cast<const float*>(dst.get_data_handle());
  return {values, values + conv.pd.dst_desc().get_size() / sizeof(float)};
}

// Integer convs agree exactly; f32 ones to rounding (the split may change the order of
// the sums).
void expect_same(const std::vector<float>& actual, const std::vector<float>& expected, bool exact) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (exact) {
      ASSERT_EQ(actual[i], expected[i]) << "at " << i;
    } else {
      ASSERT_NEAR(actual[i], expected[i], 1e-5f * (1.0f + std::fabs(expected[i]))) << "at " << i;
    }
  }
}

const std::vector<int> kConvArgs = {DNNL_ARG_SRC, DNNL_ARG_WEIGHTS, DNNL_ARG_DST};

// Made again when oneDNN lays the conv's arguments out alike on one thread (a brgemm conv
// may block its weights by 32 output channels there and by 64 on two).
TEST(OneThreadPrimitive, ConvWithTheSameLayoutsIsMadeAgainOnOneThread) {
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  int made = 0;
  for (dt type : {dt::f32, dt::u8}) {
    for (int kernel : {1, 3}) {
      SCOPED_TRACE(::testing::Message()
                   << (type == dt::f32 ? "f32" : "u8") << " " << kernel << "x" << kernel);
      const Conv wide = make_conv(engine, type, kernel, 2);
      const Conv one = make_conv(engine, type, kernel, 1);
      const bool same_layouts = one.pd.src_desc() == wide.pd.src_desc() &&
                                one.pd.weights_desc() == wide.pd.weights_desc() &&
                                one.pd.dst_desc() == wide.pd.dst_desc();
      const memory::desc wide_scratchpad = wide.pd.scratchpad_desc();
      const auto single =
          make_one_thread_primitive(wide.primitive, engine, wide_scratchpad.get_size(), kConvArgs);
      ASSERT_EQ(single.has_value(), same_layouts);
      if (!single) continue;
      ++made;
      EXPECT_EQ(implementation(single->primitive), implementation(wide.primitive));
      expect_same(run(single->primitive, wide, single->scratchpad, engine, 1),
                  run(wide.primitive, wide, wide_scratchpad, engine, 2), type == dt::u8);
      EXPECT_LE(single->scratchpad.get_size(), wide_scratchpad.get_size());
      // brgemm convs keep a buffer per thread: one thread needs less.
      if (implementation(wide.primitive).rfind("brg", 0) == 0) {
        EXPECT_LT(single->scratchpad.get_size(), wide_scratchpad.get_size());
      }
    }
  }
  EXPECT_GE(made, 1);
}

TEST(OneThreadPrimitive, ScratchpadOverTheLimitKeepsTheWideOne) {
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const Conv wide = make_conv(engine, dt::u8, 1, 2);
  const auto single = make_one_thread_primitive(wide.primitive, engine, 0, kConvArgs);
  if (wide.pd.scratchpad_desc().get_size() > 0) {
    EXPECT_FALSE(single.has_value());
  }
}

TEST(OneThreadPrimitive, ReorderIsMadeAgain) {
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const memory::desc src({2, 16, 5, 7}, dt::f32, tag::nchw);
  const memory::desc dst({2, 16, 5, 7}, dt::u8, tag::nhwc);
  dnnl::primitive_attr attr;
  attr.set_output_scales(0, {4.0f});
  const ScopedOmpThreads two(2);
  const dnnl::reorder::primitive_desc pd(engine, src, engine, dst, attr);
  const dnnl::reorder wide(pd);
  const auto single = make_one_thread_primitive(wide, engine, pd.scratchpad_desc().get_size(),
                                                {DNNL_ARG_FROM, DNNL_ARG_TO});
  ASSERT_TRUE(single.has_value());
  EXPECT_EQ(implementation(single->primitive), implementation(wide));
  dnnl::stream stream(engine);
  const memory from = filled(src, engine, 3);
  memory to_wide(dst, engine), to_single(dst, engine);
  wide.execute(stream, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to_wide}});
  single->primitive.execute(stream, {{DNNL_ARG_FROM, from}, {DNNL_ARG_TO, to_single}});
  stream.wait();
  EXPECT_EQ(std::memcmp(to_wide.get_data_handle(), to_single.get_data_handle(), dst.get_size()), 0);
}

TEST(OneThreadPrimitive, ConcatIsLeftAsItIs) {
  const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  const memory::desc part({1, 8, 4, 4}, dt::f32, tag::nchw);
  const dnnl::concat::primitive_desc pd(1, {part, part}, engine);
  EXPECT_FALSE(make_one_thread_primitive(dnnl::concat(pd), engine, 1 << 20, {}).has_value());
}

}  // namespace
}  // namespace edgeperf::runtime::onednn
