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
    swish_in_parts(data, data, count, threads_);
  }

 private:
  dnnl::primitive primitive_;
  dnnl::stream stream_;
  CustomOp inner_;
  int threads_;
};

}  // namespace

void swish_in_parts(const float* x, float* y, std::int64_t count, int threads) {
  const std::int64_t lines = (count + kFloatsPerLine - 1) / kFloatsPerLine;
  const int parts = static_cast<int>(std::clamp<std::int64_t>(lines, 1, std::max(threads, 1)));
#pragma omp parallel for num_threads(parts) schedule(static) if (parts > 1)
  for (int part = 0; part < parts; ++part) {
    const std::int64_t begin = lines * part / parts * kFloatsPerLine;
    const std::int64_t end = std::min(count, lines * (part + 1) / parts * kFloatsPerLine);
    swish(x + begin, y + begin, end - begin);
  }
}

CustomOp then_swish(dnnl::primitive primitive, const dnnl::engine& engine, CustomOp inner,
                    int threads) {
  auto tail = std::make_shared<SwishTail>(std::move(primitive), engine, std::move(inner), threads);
  return [tail](const ArgMap& args) { tail->run(args); };
}

}  // namespace edgeperf::runtime::onednn
