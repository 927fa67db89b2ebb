#include "pixel_parts.h"

#include <algorithm>
#include <memory>

namespace edgeperf::runtime::onednn {
namespace {

constexpr std::size_t kScratchpadAlignment = 64;

std::size_t scratchpad_stride(const std::vector<PixelPart>& parts) {
  std::size_t largest = 0;
  for (const PixelPart& part : parts)
    largest = std::max(largest, part.pd.scratchpad_desc().get_size());
  return (largest + kScratchpadAlignment - 1) / kScratchpadAlignment * kScratchpadAlignment;
}

bool is_channels_last(const dnnl::memory::desc& md) {
  return md.dims().size() == 4 &&
         md == dnnl::memory::desc(md.dims(), md.data_type(), dnnl::memory::format_tag::acdb);
}

// Bytes from one pixel to the next in a channels-last view.
std::size_t pixel_bytes(const dnnl::memory::desc& md) {
  return static_cast<std::size_t>(md.dims()[1]) * dnnl::memory::data_type_size(md.data_type());
}

class PixelParts {
 public:
  PixelParts(const std::vector<PixelPart>& parts, const dnnl::engine& engine, PartTail tail)
      : scratchpad_stride_(scratchpad_stride(parts)), tail_(std::move(tail)) {
    for (const PixelPart& part : parts) {
      const dnnl::memory::desc dst = part.pd.dst_desc();
      runners_.push_back(
          Runner{dnnl::convolution_forward(part.pd),
                 dnnl::stream(engine),
                 dnnl::memory(part.pd.src_desc(), engine, DNNL_MEMORY_NONE),
                 dnnl::memory(dst, engine, DNNL_MEMORY_NONE),
                 dnnl::memory(part.pd.scratchpad_desc(), engine, DNNL_MEMORY_NONE),
                 static_cast<std::size_t>(part.first_pixel) * pixel_bytes(part.pd.src_desc()),
                 static_cast<std::size_t>(part.first_pixel) * pixel_bytes(dst),
                 static_cast<std::int64_t>(dst.dims()[1] * dst.dims()[3]),
                 {}});
    }
  }

  int count() const { return static_cast<int>(runners_.size()); }

  // Runs the runners of part `part` of `parts` (one each when there are as many parts).
  void run_part(const ArgMap& args, int part, int parts) {
    const auto count = static_cast<std::size_t>(runners_.size());
    const std::size_t first =
        count * static_cast<std::size_t>(part) / static_cast<std::size_t>(parts);
    const std::size_t end =
        count * static_cast<std::size_t>(part + 1) / static_cast<std::size_t>(parts);
    for (std::size_t index = first; index < end; ++index) run_runner(args, index);
  }

 private:
  void run_runner(const ArgMap& args, std::size_t index) {
    auto* src = static_cast<std::byte*>(args.at(DNNL_ARG_SRC).get_data_handle());
    auto* dst = static_cast<std::byte*>(args.at(DNNL_ARG_DST).get_data_handle());
    const auto scratchpad = args.find(DNNL_ARG_SCRATCHPAD);
    Runner& runner = runners_[index];
    if (runner.args.empty()) {  // the weights, bias and post-op operands are bound in place
      runner.args = args;
      runner.args.insert_or_assign(DNNL_ARG_SRC, runner.src);
      runner.args.insert_or_assign(DNNL_ARG_DST, runner.dst);
      runner.args.erase(DNNL_ARG_SCRATCHPAD);
      if (runner.scratchpad.get_desc().get_size() > 0) {
        runner.args.insert_or_assign(DNNL_ARG_SCRATCHPAD, runner.scratchpad);
      }
    }
    std::byte* part_dst = dst + runner.dst_offset;
    runner.src.set_data_handle(src + runner.src_offset);
    runner.dst.set_data_handle(part_dst);
    if (scratchpad != args.end()) {
      runner.scratchpad.set_data_handle(
          static_cast<std::byte*>(scratchpad->second.get_data_handle()) +
          index * scratchpad_stride_);
    }
    runner.primitive.execute(runner.stream, runner.args);
    runner.stream.wait();
    if (tail_) tail_(part_dst, runner.dst_elements);
  }

  struct Runner {
    dnnl::primitive primitive;
    dnnl::stream stream;
    dnnl::memory src, dst, scratchpad;
    std::size_t src_offset, dst_offset;  // bytes
    std::int64_t dst_elements;
    ArgMap args;
  };

  std::size_t scratchpad_stride_;
  PartTail tail_;
  std::vector<Runner> runners_;
};

}  // namespace

std::vector<PixelPart> split_pixels(
    const ConvPd& whole, std::int64_t pixels, int threads,
    const std::function<std::optional<ConvPd>(std::int64_t pixels)>& make_part) {
  if (!is_channels_last(whole.src_desc()) || !is_channels_last(whole.dst_desc())) return {};
  if (pixels < threads) return {};
  std::vector<PixelPart> parts;
  for (int t = 0; t < threads; ++t) {
    const std::int64_t first = pixels * t / threads, end = pixels * (t + 1) / threads;
    std::optional<ConvPd> pd = make_part(end - first);
    if (!pd || pd->weights_desc() != whole.weights_desc()) return {};
    parts.push_back(PixelPart{*pd, first});
  }
  return parts;
}

dnnl::memory::desc pixel_row_desc(std::int64_t channels, std::int64_t pixels,
                                  dnnl::memory::data_type type) {
  return {{1, channels, 1, pixels}, type, dnnl::memory::format_tag::acdb};
}

PartedOp run_in_pixel_parts(const std::vector<PixelPart>& parts, const dnnl::engine& engine,
                            PartTail tail) {
  auto op = std::make_shared<PixelParts>(parts, engine, std::move(tail));
  return PartedOp{
      op->count(),
      [op](const ArgMap& args, int part, int count) { op->run_part(args, part, count); },
      {}};
}

dnnl::memory::desc pixel_parts_scratchpad(const std::vector<PixelPart>& parts) {
  const auto bytes = static_cast<dnnl::memory::dim>(scratchpad_stride(parts) * parts.size());
  if (bytes == 0) return {};
  return dnnl::memory::desc({bytes}, dnnl::memory::data_type::u8, dnnl::memory::format_tag::a);
}

}  // namespace edgeperf::runtime::onednn
