// Elementwise arithmetic on f32/f64 columns. The regular path is a plain loop that the
// compiler vectorizes, once per ISA (the CPU picks one at run time); the streaming path writes with
// non-temporal stores so the output is not read into the cache first (saves one of four memory
// streams).
#include <cstdint>
#include <cstring>

#include "edgeperf/columnar/kernels.h"
#include "edgeperf/core/cpu_features.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/isa_target.h"
#include "kernel_util.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgeperf::columnar {
namespace {

#if defined(__x86_64__)
EP_TARGET_BEGIN(EP_ISA_AVX512)
namespace avx512 {
#define EP_VECTOR_BYTES 64
#include "elementwise_body.inc"
#undef EP_VECTOR_BYTES
}  // namespace avx512
EP_TARGET_END

EP_TARGET_BEGIN(EP_ISA_AVX2)
namespace avx2 {
#define EP_VECTOR_BYTES 32
#include "elementwise_body.inc"
#undef EP_VECTOR_BYTES
}  // namespace avx2
EP_TARGET_END

constexpr bool kHaveStreamingStores = true;
#else
constexpr bool kHaveStreamingStores = false;
#endif

namespace portable {
#define EP_VECTOR_BYTES 16
#include "elementwise_body.inc"
#undef EP_VECTOR_BYTES
}  // namespace portable

template <BinaryOp op, typename T>
struct RangeKernels {
  decltype(&portable::column_range<op, T>) column;
  decltype(&portable::scalar_range<op, T>) scalar;
  std::size_t vector_bytes;
};

template <BinaryOp op, typename T>
RangeKernels<op, T> kernels_for(const CpuFeatures& cpu) {
#if defined(__x86_64__)
  if (cpu.avx512) return {avx512::column_range<op, T>, avx512::scalar_range<op, T>, 64};
  if (cpu.avx2_fma) return {avx2::column_range<op, T>, avx2::scalar_range<op, T>, 32};
#endif
  (void)cpu;
  return {portable::column_range<op, T>, portable::scalar_range<op, T>, 16};
}

// The right-hand side: a column or a broadcast scalar.
template <typename T>
struct Rhs {
  const T* column = nullptr;
  T scalar{};
};

bool use_streaming(StorePolicy store, std::size_t out_bytes) {
  if (!kHaveStreamingStores) return false;
  if (store == StorePolicy::automatic) return out_bytes >= streaming_store_threshold_bytes();
  return store == StorePolicy::streaming;
}

template <BinaryOp op, typename T>
void run(const T* a, Rhs<T> b, T* out, std::size_t n, int threads, bool streaming) {
  const RangeKernels<op, T> kernels = kernels_for<op, T>(CpuFeatures::host());
  // Below ~64K items a parallel region costs more than it saves.
  const int team = detail::threads_for(n, threads, std::size_t{1} << 16);
  const std::size_t align = kernels.vector_bytes / sizeof(T) * 16;
#pragma omp parallel num_threads(team) if (team > 1)
  {
    const auto [begin, end] =
        detail::split_range(n, omp_get_num_threads(), omp_get_thread_num(), align);
    if (b.column != nullptr) {
      kernels.column(a, b.column, out, begin, end, streaming);
    } else {
      kernels.scalar(a, b.scalar, out, begin, end, streaming);
    }
  }
}

template <typename T>
void dispatch(BinaryOp op, const T* a, Rhs<T> b, T* out, std::size_t n, int threads,
              StorePolicy store) {
  const bool streaming = use_streaming(store, n * sizeof(T));
  switch (op) {
    case BinaryOp::add:
      return run<BinaryOp::add>(a, b, out, n, threads, streaming);
    case BinaryOp::sub:
      return run<BinaryOp::sub>(a, b, out, n, threads, streaming);
    case BinaryOp::mul:
      return run<BinaryOp::mul>(a, b, out, n, threads, streaming);
    case BinaryOp::div:
      return run<BinaryOp::div>(a, b, out, n, threads, streaming);
  }
  fail("elementwise: unknown operation {}", static_cast<int>(op));
}

template <typename T>
void elementwise_columns(BinaryOp op, std::span<const T> a, std::span<const T> b, std::span<T> out,
                         int threads, StorePolicy store) {
  EP_CHECK(a.size() == b.size() && a.size() == out.size(),
           "elementwise: column lengths differ (a {}, b {}, out {})", a.size(), b.size(),
           out.size());
  dispatch(op, a.data(), Rhs<T>{b.data(), T{}}, out.data(), a.size(), threads, store);
}

template <typename T>
void elementwise_with_scalar(BinaryOp op, std::span<const T> a, T scalar, std::span<T> out,
                             int threads, StorePolicy store) {
  EP_CHECK(a.size() == out.size(), "elementwise: column lengths differ (a {}, out {})", a.size(),
           out.size());
  dispatch(op, a.data(), Rhs<T>{nullptr, scalar}, out.data(), a.size(), threads, store);
}

}  // namespace

std::size_t streaming_store_threshold_bytes() {
  // Beyond the size of a typical last-level cache the output will not be re-read from cache
  // anyway, so bypassing it saves the read-for-ownership traffic.
  return std::size_t{16} << 20;
}

void elementwise(BinaryOp op, std::span<const float> a, std::span<const float> b,
                 std::span<float> out, int threads, StorePolicy store) {
  elementwise_columns(op, a, b, out, threads, store);
}
void elementwise(BinaryOp op, std::span<const double> a, std::span<const double> b,
                 std::span<double> out, int threads, StorePolicy store) {
  elementwise_columns(op, a, b, out, threads, store);
}
void elementwise_scalar(BinaryOp op, std::span<const float> a, float scalar, std::span<float> out,
                        int threads, StorePolicy store) {
  elementwise_with_scalar(op, a, scalar, out, threads, store);
}
void elementwise_scalar(BinaryOp op, std::span<const double> a, double scalar,
                        std::span<double> out, int threads, StorePolicy store) {
  elementwise_with_scalar(op, a, scalar, out, threads, store);
}

}  // namespace edgeperf::columnar
