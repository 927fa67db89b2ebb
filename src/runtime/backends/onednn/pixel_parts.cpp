#include "pixel_parts.h"

#include <omp.h>

#include <algorithm>
#include <memory>

#include "swish.h"

namespace edgeperf::runtime::onednn {
namespace {

constexpr std::size_t kScratchpadAlignment = 64;

std::size_t scratchpad_stride(const std::vector<PixelPart>& parts) {
  std::size_t largest = 0;
  for (const PixelPart& part : parts)
    largest = std::max(largest, part.pd.scratchpad_desc().get_size());
  return (largest + kScratchpadAlignment - 1) / kScratchpadAlignment * kScratchpadAlignment;
}

class PixelParts {
 public:
  PixelParts(std::vector<PixelPart> parts, const dnnl::engine& engine, std::int64_t in_channels,
             std::int64_t out_channels)
      : in_channels_(in_channels),
        out_channels_(out_channels),
        scratchpad_stride_(scratchpad_stride(parts)) {
    for (PixelPart& part : parts) {
      Runner runner{dnnl::convolution_forward(part.pd),
                    dnnl::stream(engine),
                    dnnl::memory(part.pd.src_desc(), engine, DNNL_MEMORY_NONE),
                    dnnl::memory(part.pd.dst_desc(), engine, DNNL_MEMORY_NONE),
                    dnnl::memory(part.pd.scratchpad_desc(), engine, DNNL_MEMORY_NONE),
                    part.first_pixel,
                    static_cast<std::int64_t>(part.pd.dst_desc().get_size() / sizeof(float)),
                    {}};
      runners_.push_back(std::move(runner));
    }
  }

  void run(const ArgMap& args) {
    auto* src = static_cast<float*>(args.at(DNNL_ARG_SRC).get_data_handle());
    auto* dst = static_cast<float*>(args.at(DNNL_ARG_DST).get_data_handle());
    auto* scratchpad = static_cast<std::byte*>(args.count(DNNL_ARG_SCRATCHPAD) > 0
                                                   ? args.at(DNNL_ARG_SCRATCHPAD).get_data_handle()
                                                   : nullptr);
    const auto parts = static_cast<int>(runners_.size());
    const int threads = run_threads(parts);  // one: the parts in turn on this thread
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int p = 0; p < parts; ++p) {
      Runner& runner = runners_[static_cast<std::size_t>(p)];
      if (runner.args.empty()) {  // the weights and bias handles are bound in place
        runner.args = args;
        runner.args.insert_or_assign(DNNL_ARG_SRC, runner.src);
        runner.args.insert_or_assign(DNNL_ARG_DST, runner.dst);
        runner.args.erase(DNNL_ARG_SCRATCHPAD);
        if (runner.scratchpad.get_desc().get_size() > 0) {
          runner.args.insert_or_assign(DNNL_ARG_SCRATCHPAD, runner.scratchpad);
        }
      }
      float* part_dst = dst + runner.first_pixel * out_channels_;
      runner.src.set_data_handle(src + runner.first_pixel * in_channels_);
      runner.dst.set_data_handle(part_dst);
      if (scratchpad != nullptr) {
        runner.scratchpad.set_data_handle(scratchpad +
                                          static_cast<std::size_t>(p) * scratchpad_stride_);
      }
      runner.primitive.execute(runner.stream, runner.args);
      runner.stream.wait();
      swish(part_dst, part_dst, runner.dst_floats);
    }
  }

 private:
  struct Runner {
    dnnl::primitive primitive;
    dnnl::stream stream;
    dnnl::memory src, dst, scratchpad;
    std::int64_t first_pixel;
    std::int64_t dst_floats;
    ArgMap args;
  };

  std::int64_t in_channels_, out_channels_;
  std::size_t scratchpad_stride_;
  std::vector<Runner> runners_;
};

}  // namespace

CustomOp run_in_pixel_parts_with_swish(std::vector<PixelPart> parts, const dnnl::engine& engine,
                                       std::int64_t in_channels, std::int64_t out_channels) {
  auto op = std::make_shared<PixelParts>(std::move(parts), engine, in_channels, out_channels);
  return [op](const ArgMap& args) { op->run(args); };
}

dnnl::memory::desc pixel_parts_scratchpad(const std::vector<PixelPart>& parts) {
  const auto bytes = static_cast<dnnl::memory::dim>(scratchpad_stride(parts) * parts.size());
  if (bytes == 0) return {};
  return dnnl::memory::desc({bytes}, dnnl::memory::data_type::u8, dnnl::memory::format_tag::a);
}

}  // namespace edgeperf::runtime::onednn
