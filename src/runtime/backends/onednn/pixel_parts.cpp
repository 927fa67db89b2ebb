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

// One primitive per part over a contiguous range of pixels, with the arguments that are
// split by pixels (`pixel_args`) bound at the part's first pixel.
struct PartPrimitive {
  dnnl::primitive primitive;
  std::int64_t first_pixel = 0;
  std::vector<std::pair<int, dnnl::memory::desc>> pixel_args;  // each [1, C, 1, n] acdb
  dnnl::memory::desc scratchpad;
};

class PixelParts {
 public:
  PixelParts(const std::vector<PartPrimitive>& parts, const dnnl::engine& engine, PartTail tail,
             std::size_t scratchpad_stride)
      : scratchpad_stride_(scratchpad_stride), tail_(std::move(tail)) {
    for (const PartPrimitive& part : parts) {
      Runner runner{part.primitive,
                    dnnl::stream(engine),
                    {},
                    dnnl::memory(part.scratchpad, engine, DNNL_MEMORY_NONE),
                    0,
                    {}};
      for (const auto& [arg, md] : part.pixel_args) {
        runner.pixel_args.push_back(
            PixelArg{arg, dnnl::memory(md, engine, DNNL_MEMORY_NONE),
                     static_cast<std::size_t>(part.first_pixel) * pixel_bytes(md)});
        if (arg == DNNL_ARG_DST) runner.dst_elements = md.dims()[1] * md.dims()[3];
      }
      runners_.push_back(std::move(runner));
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
  struct PixelArg {
    int arg;
    dnnl::memory memory;
    std::size_t offset;  // bytes
  };
  struct Runner {
    dnnl::primitive primitive;
    dnnl::stream stream;
    std::vector<PixelArg> pixel_args;
    dnnl::memory scratchpad;
    std::int64_t dst_elements;
    ArgMap args;
  };

  void run_runner(const ArgMap& args, std::size_t index) {
    Runner& runner = runners_[index];
    if (runner.args.empty()) {  // the weights, bias and post-op operands are bound in place
      runner.args = args;
      for (const PixelArg& pixel_arg : runner.pixel_args)
        runner.args.insert_or_assign(pixel_arg.arg, pixel_arg.memory);
      runner.args.erase(DNNL_ARG_SCRATCHPAD);
      if (runner.scratchpad.get_desc().get_size() > 0) {
        runner.args.insert_or_assign(DNNL_ARG_SCRATCHPAD, runner.scratchpad);
      }
    }
    void* part_dst = nullptr;
    for (PixelArg& pixel_arg : runner.pixel_args) {
      auto* data = static_cast<std::byte*>(args.at(pixel_arg.arg).get_data_handle());
      pixel_arg.memory.set_data_handle(data + pixel_arg.offset);
      if (pixel_arg.arg == DNNL_ARG_DST) part_dst = data + pixel_arg.offset;
    }
    const auto scratchpad = args.find(DNNL_ARG_SCRATCHPAD);
    if (scratchpad != args.end()) {
      runner.scratchpad.set_data_handle(
          static_cast<std::byte*>(scratchpad->second.get_data_handle()) +
          index * scratchpad_stride_);
    }
    runner.primitive.execute(runner.stream, runner.args);
    runner.stream.wait();
    if (tail_) tail_(part_dst, runner.dst_elements);
  }

  std::size_t scratchpad_stride_;
  PartTail tail_;
  std::vector<Runner> runners_;
};

PartedOp parted_pixel_parts(const std::shared_ptr<PixelParts>& op) {
  return PartedOp{
      op->count(),
      [op](const ArgMap& args, int part, int count) { op->run_part(args, part, count); },
      {}};
}

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
  std::vector<PartPrimitive> primitives;
  primitives.reserve(parts.size());
  for (const PixelPart& part : parts) {
    primitives.push_back(
        PartPrimitive{dnnl::convolution_forward(part.pd),
                      part.first_pixel,
                      {{DNNL_ARG_SRC, part.pd.src_desc()}, {DNNL_ARG_DST, part.pd.dst_desc()}},
                      part.pd.scratchpad_desc()});
  }
  return parted_pixel_parts(
      std::make_shared<PixelParts>(primitives, engine, std::move(tail), scratchpad_stride(parts)));
}

std::optional<PartedOp> binary_in_pixel_parts(
    const dnnl::binary::primitive_desc& whole, std::int64_t pixels, int threads,
    const dnnl::engine& engine,
    const std::function<std::optional<dnnl::binary::primitive_desc>(std::int64_t pixels)>&
        make_part) {
  const int args[] = {DNNL_ARG_SRC_0, DNNL_ARG_SRC_1, DNNL_ARG_DST};
  for (int arg : args) {
    const dnnl::memory::desc md = whole.query_md(dnnl::query::exec_arg_md, arg);
    if (!is_channels_last(md) || md.dims() != whole.dst_desc().dims()) return std::nullopt;
  }
  if (pixels < threads || whole.scratchpad_desc().get_size() > 0) return std::nullopt;
  std::vector<PartPrimitive> primitives;
  for (int t = 0; t < threads; ++t) {
    const std::int64_t first = pixels * t / threads, end = pixels * (t + 1) / threads;
    std::optional<dnnl::binary::primitive_desc> pd = make_part(end - first);
    if (!pd || pd->scratchpad_desc().get_size() > 0) return std::nullopt;
    PartPrimitive part{dnnl::binary(*pd), first, {}, {}};
    for (int arg : args)
      part.pixel_args.emplace_back(arg, pd->query_md(dnnl::query::exec_arg_md, arg));
    primitives.push_back(std::move(part));
  }
  return parted_pixel_parts(std::make_shared<PixelParts>(primitives, engine, PartTail{}, 0));
}

dnnl::memory::desc pixel_parts_scratchpad(const std::vector<PixelPart>& parts) {
  const auto bytes = static_cast<dnnl::memory::dim>(scratchpad_stride(parts) * parts.size());
  if (bytes == 0) return {};
  return dnnl::memory::desc({bytes}, dnnl::memory::data_type::u8, dnnl::memory::format_tag::a);
}

}  // namespace edgeperf::runtime::onednn
