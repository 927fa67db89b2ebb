#pragma once
// What the f32 and int8 Concats share when a BatchNormalization (and a ReLU) alone reads
// them, DenseNet's pre-activation: the chain found after the Concat, and the tasks of
// channel rows (channel_affine.h) that apply it while the parts are copied into place.
#include <dnnl.hpp>
#include <optional>
#include <type_traits>
#include <vector>

#include "channel_affine.h"
#include "region_context.h"

namespace edgeperf::runtime::onednn {

// Rows of one part: offsets in elements into the part and the output.
struct ConcatAffineTask {
  std::size_t part;
  std::int64_t channel;  // of the first lane, in the output
  std::int64_t x_offset, x_stride, y_offset, y_stride, pixels, lanes;
};

// The tasks of a channel Concat of parts [N, C_i, pixels...] in `tag`: one per channel
// block of each part in a blocked (16 or 8 lanes) or plain (1 lane) layout, one per part
// and run of pixels when channels-last. None for another layout.
std::vector<ConcatAffineTask> concat_affine_tasks(const std::vector<TensorDesc>& parts,
                                                  const Shape& y,
                                                  std::optional<dnnl::memory::format_tag> tag);

// y = act(x * scale[c] + shift[c]) from the BatchNormalization and the ReLU after a Concat.
struct ConcatBatchNorm {
  std::vector<ChainLink> links;
  std::size_t count = 0;  // links taken: the BatchNormalization, and the ReLU if any
  std::vector<float> scale, shift;
  bool relu = false;
  float slope = 0.0f;

  const std::string& output() const { return links[count - 1].output; }
};

// The chain after Concat `index` (output [N, C, ...] along the channels), if it begins
// with a BatchNormalization of C channels.
std::optional<ConcatBatchNorm> concat_batch_norm(const RegionContext& context, std::size_t index);

// The op: reads DNNL_ARG_MULTIPLE_SRC + i for part i and writes DNNL_ARG_DST, tasks shared
// among threads. T is float, or the bytes of an int8 Concat whose scale and shift fold in
// the output's quantization (zero: its zero point) and each byte part's dequantization;
// a part marked in `float_parts` is read as floats.
template <typename T>
class ConcatAffine {
 public:
  struct Activation {
    bool relu = false;
    float slope = 0.0f;
    std::int32_t zero = 0;
  };

  ConcatAffine(std::vector<ConcatAffineTask> tasks, std::vector<float> scale,
               std::vector<float> shift, Activation activation, std::vector<bool> float_parts,
               int threads)
      : tasks_(std::move(tasks)),
        scale_(std::move(scale)),
        shift_(std::move(shift)),
        activation_(activation),
        float_parts_(std::move(float_parts)),
        threads_(threads) {}

  void operator()(const ArgMap& args) const {
    auto* out = static_cast<T*>(args.at(DNNL_ARG_DST).get_data_handle());
    std::vector<const void*> sources;
    for (int p = 0; args.count(DNNL_ARG_MULTIPLE_SRC + p) > 0; ++p) {
      sources.push_back(args.at(DNNL_ARG_MULTIPLE_SRC + p).get_data_handle());
    }
    const auto count = static_cast<std::int64_t>(tasks_.size());
    const int threads = run_threads(threads_);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1 && count > 1)
    for (std::int64_t t = 0; t < count; ++t) {
      run_task(tasks_[static_cast<std::size_t>(t)], sources, out);
    }
  }

 private:
  template <typename In>
  AffineRows<In, T> rows(const ConcatAffineTask& task, const void* source, T* out) const {
    return {static_cast<const In*>(source) + task.x_offset,
            task.x_stride,
            out + task.y_offset,
            task.y_stride,
            task.pixels,
            task.lanes};
  }

  void run_task(const ConcatAffineTask& task, const std::vector<const void*>& sources,
                T* out) const {
    const auto c = static_cast<std::size_t>(task.channel);
    const void* source = sources[task.part];
    const ChannelAffine channel{scale_.data() + c, shift_.data() + c, activation_.relu,
                                activation_.slope};
    if constexpr (std::is_same_v<T, float>) {
      channel_affine(channel, rows<float>(task, source, out));
    } else {
      const ByteAffine affine{channel, activation_.zero};
      if (float_parts_[task.part]) {
        channel_affine(affine, rows<float>(task, source, out));
      } else {
        channel_affine(affine, rows<T>(task, source, out));
      }
    }
  }

  std::vector<ConcatAffineTask> tasks_;
  std::vector<float> scale_, shift_;
  Activation activation_;
  std::vector<bool> float_parts_;
  int threads_;
};

}  // namespace edgeperf::runtime::onednn
