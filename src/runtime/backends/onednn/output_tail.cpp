#include "output_tail.h"

#include <algorithm>
#include <memory>

#include "swish.h"

namespace edgeperf::runtime::onednn {
namespace {

// Whole cache lines per thread, so two threads never write the same line.
constexpr std::int64_t kFloatsPerLine = 16;

class SwishTail {
 public:
  SwishTail(dnnl::primitive primitive, const dnnl::engine& engine, CustomOp inner, int threads)
      : primitive_(std::move(primitive)),
        stream_(engine),
        inner_(std::move(inner)),
        threads_(threads) {}

  void run(const ArgMap& args) {
    if (inner_) {
      inner_(args);
    } else {
      primitive_.execute(stream_, args);
      stream_.wait();
    }
    const dnnl::memory& dst = args.at(DNNL_ARG_DST);
    const auto count = static_cast<std::int64_t>(dst.get_desc().get_size() / sizeof(float));
    auto* data = static_cast<float*>(dst.get_data_handle());
    swish_in_parts(data, data, count, run_threads(threads_));
  }

 private:
  dnnl::primitive primitive_;
  dnnl::stream stream_;
  CustomOp inner_;
  int threads_;
};

// Calls part(begin, end) for one contiguous range of [0, count) per thread, each range
// whole cache lines of floats so that no two threads write the same line.
template <typename Part>
void in_parts(std::int64_t count, int threads, const Part& part) {
  const std::int64_t lines = (count + kFloatsPerLine - 1) / kFloatsPerLine;
  const int parts = static_cast<int>(std::clamp<std::int64_t>(lines, 1, std::max(threads, 1)));
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int p = 0; p < parts; ++p) {
    const std::int64_t begin = lines * p / parts * kFloatsPerLine;
    const std::int64_t end = std::min(count, lines * (p + 1) / parts * kFloatsPerLine);
    part(begin, end);
  }
}

}  // namespace

void swish_in_parts(const float* x, float* y, std::int64_t count, int threads) {
  in_parts(count, threads,
           [&](std::int64_t begin, std::int64_t end) { swish(x + begin, y + begin, end - begin); });
}

void swish_dequantized_in_parts(const void* q, const Dequantization& dq, float* y,
                                std::int64_t count, int threads) {
  const auto* bytes = static_cast<const std::byte*>(q);
  in_parts(count, threads, [&](std::int64_t begin, std::int64_t end) {
    swish_dequantized(bytes + begin, dq, y + begin, end - begin);
  });
}

CustomOp then_swish(dnnl::primitive primitive, const dnnl::engine& engine, CustomOp inner,
                    int threads) {
  auto tail = std::make_shared<SwishTail>(std::move(primitive), engine, std::move(inner), threads);
  return [tail](const ArgMap& args) { tail->run(args); };
}

}  // namespace edgeperf::runtime::onednn
