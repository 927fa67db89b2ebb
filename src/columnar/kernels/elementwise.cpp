// Elementwise arithmetic on f32/f64 columns. The regular path is a plain loop that the
// compiler vectorizes (-O3 -march=native); the streaming path writes with non-temporal
// stores so the output is not read into the cache first (saves one of four memory streams).
#include <cstdint>
#include <cstring>

#include "edgeperf/columnar/kernels.h"
#include "edgeperf/core/error.h"
#include "kernel_util.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace edgeperf::columnar {
namespace {

#if defined(__AVX512F__)
constexpr std::size_t kVectorBytes = 64;
#elif defined(__AVX__)
constexpr std::size_t kVectorBytes = 32;
#else
constexpr std::size_t kVectorBytes = 16;
#endif

template <typename T>
struct VectorOf;
template <>
struct VectorOf<float> {
  typedef float type __attribute__((vector_size(kVectorBytes)));
};
template <>
struct VectorOf<double> {
  typedef double type __attribute__((vector_size(kVectorBytes)));
};
template <typename T>
using Vec = typename VectorOf<T>::type;

template <typename T>
constexpr std::size_t kLanes = kVectorBytes / sizeof(T);

#if defined(__x86_64__)
constexpr bool kHaveStreamingStores = true;
inline void stream_store(float* p, Vec<float> v) {
#if defined(__AVX512F__)
  _mm512_stream_ps(p, reinterpret_cast<__m512>(v));
#elif defined(__AVX__)
  _mm256_stream_ps(p, reinterpret_cast<__m256>(v));
#else
  _mm_stream_ps(p, reinterpret_cast<__m128>(v));
#endif
}
inline void stream_store(double* p, Vec<double> v) {
#if defined(__AVX512F__)
  _mm512_stream_pd(p, reinterpret_cast<__m512d>(v));
#elif defined(__AVX__)
  _mm256_stream_pd(p, reinterpret_cast<__m256d>(v));
#else
  _mm_stream_pd(p, reinterpret_cast<__m128d>(v));
#endif
}
inline void store_fence() { _mm_sfence(); }
#else
constexpr bool kHaveStreamingStores = false;
template <typename T>
inline void stream_store(T* p, Vec<T> v) {
  std::memcpy(p, &v, sizeof v);
}
inline void store_fence() {}
#endif

template <typename T>
inline Vec<T> load(const T* p) {
  Vec<T> v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Right-hand side: a column or a broadcast scalar.
template <typename T>
struct ColumnRhs {
  const T* data;
  T at(std::size_t i) const { return data[i]; }
  Vec<T> vec(std::size_t i) const { return load(data + i); }
};
template <typename T>
struct ScalarRhs {
  T value;
  T at(std::size_t) const { return value; }
  Vec<T> vec(std::size_t) const { return Vec<T>{} + value; }
};

template <BinaryOp op, typename V>
inline V apply(V x, V y) {
  if constexpr (op == BinaryOp::add) return x + y;
  if constexpr (op == BinaryOp::sub) return x - y;
  if constexpr (op == BinaryOp::mul) return x * y;
  if constexpr (op == BinaryOp::div) return x / y;
}

template <BinaryOp op, typename T, typename Rhs>
void run_regular(const T* a, Rhs b, T* out, std::size_t begin, std::size_t end) {
  for (std::size_t i = begin; i < end; ++i) out[i] = apply<op>(a[i], b.at(i));
}

template <BinaryOp op, typename T, typename Rhs>
void run_streaming(const T* a, Rhs b, T* out, std::size_t begin, std::size_t end) {
  std::size_t i = begin;
  while (i < end && reinterpret_cast<std::uintptr_t>(out + i) % kVectorBytes != 0) {
    out[i] = apply<op>(a[i], b.at(i));
    ++i;
  }
  constexpr std::size_t lanes = kLanes<T>;
  for (; i + 4 * lanes <= end; i += 4 * lanes) {
    const Vec<T> r0 = apply<op>(load(a + i), b.vec(i));
    const Vec<T> r1 = apply<op>(load(a + i + lanes), b.vec(i + lanes));
    const Vec<T> r2 = apply<op>(load(a + i + 2 * lanes), b.vec(i + 2 * lanes));
    const Vec<T> r3 = apply<op>(load(a + i + 3 * lanes), b.vec(i + 3 * lanes));
    stream_store(out + i, r0);
    stream_store(out + i + lanes, r1);
    stream_store(out + i + 2 * lanes, r2);
    stream_store(out + i + 3 * lanes, r3);
  }
  for (; i < end; ++i) out[i] = apply<op>(a[i], b.at(i));
  store_fence();
}

bool use_streaming(StorePolicy store, std::size_t out_bytes) {
  if (!kHaveStreamingStores) return false;
  if (store == StorePolicy::automatic) return out_bytes >= streaming_store_threshold_bytes();
  return store == StorePolicy::streaming;
}

template <BinaryOp op, typename T, typename Rhs>
void run(const T* a, Rhs b, T* out, std::size_t n, int threads, bool streaming) {
  // Below ~64K items a parallel region costs more than it saves.
  const int team = detail::threads_for(n, threads, std::size_t{1} << 16);
  const std::size_t align = kVectorBytes / sizeof(T) * 16;
#pragma omp parallel num_threads(team) if (team > 1)
  {
    const auto [begin, end] =
        detail::split_range(n, omp_get_num_threads(), omp_get_thread_num(), align);
    if (streaming) {
      run_streaming<op>(a, b, out, begin, end);
    } else {
      run_regular<op>(a, b, out, begin, end);
    }
  }
}

template <typename T, typename Rhs>
void dispatch(BinaryOp op, const T* a, Rhs b, T* out, std::size_t n, int threads,
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
  dispatch(op, a.data(), ColumnRhs<T>{b.data()}, out.data(), a.size(), threads, store);
}

template <typename T>
void elementwise_with_scalar(BinaryOp op, std::span<const T> a, T scalar, std::span<T> out,
                             int threads, StorePolicy store) {
  EP_CHECK(a.size() == out.size(), "elementwise: column lengths differ (a {}, out {})", a.size(),
           out.size());
  dispatch(op, a.data(), ScalarRhs<T>{scalar}, out.data(), a.size(), threads, store);
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
