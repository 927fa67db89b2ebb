// edgeperf vecbench: the classic edge-pipeline benchmark, both tables.
//   multiply:     out = a * b over N f32 values;
//   groupby-mean: mean of ROWS f64 values per int32 key, keys uniform in [0, GROUPS).
// Rows per table: a naive scalar loop (the baseline), a memory-bandwidth floor measured in the
// same run, edgeperf's kernels, and peers (NumPy, PyTorch, Polars, DuckDB) run as subprocesses
// on the same sizes. Buffers are allocated and touched before timing (no first-touch page
// faults in the timed region). The methods of a table are timed in rounds, one run of each per
// round, after one warm-up round; each reports best and median of R.
#include <fmt/format.h>
#include <omp.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "edgeperf/bench/runner.h"
#include "edgeperf/cli/commands.h"
#include "edgeperf/columnar/kernels.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"

namespace edgeperf::cli {
namespace {

namespace fs = std::filesystem;
using columnar::BinaryOp;
using columnar::StorePolicy;

struct VecbenchArgs {
  long long n = 50'000'000;
  long long rows = 5'000'000;
  long long groups = 1000;
  int threads = 0;
  int repeats = 10;
  std::string json_path;
  bool no_peers = false;
};

struct Row {
  std::string method;
  std::string threads;  // as text: peers may be "1" or "lib default"
  double best_ms = 0, median_ms = 0;
  bool is_peer = false;
};

struct Timing {
  double best_ms, median_ms;
};

Timing timing_of(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  const std::size_t mid = ms.size() / 2;
  const double median = ms.size() % 2 ? ms[mid] : (ms[mid - 1] + ms[mid]) / 2;
  return {ms.front(), median};
}

// A floor takes the best of one thread and all of them.
std::vector<int> floor_thread_counts(int threads) {
  return threads > 1 ? std::vector<int>{1, threads} : std::vector<int>{1};
}

// One row of a table, or (floor_candidate) one way to reach the bandwidth floor.
struct Method {
  std::string name;
  std::string threads;
  std::function<void()> run;
  bool floor_candidate = false;
};

// One warm-up round (caches, lazy allocations, thread pool start), then `repeats` rounds that
// time every method once each: a noisy stretch inflates the floor and the kernels alike. The
// floor candidates become one row, the fastest, where the first of them stands.
std::vector<Row> measure_rows(int repeats, const std::vector<Method>& methods) {
  std::vector<std::function<void()>> queries(methods.size());
  std::transform(methods.begin(), methods.end(), queries.begin(),
                 [](const Method& method) { return method.run; });
  const auto latencies =
      bench::measure_interleaved(queries, static_cast<std::size_t>(repeats), /*warmup_runs=*/1);
  std::vector<Row> rows;
  std::optional<std::size_t> floor_at;
  for (std::size_t i = 0; i < methods.size(); ++i) {
    const Method& method = methods[i];
    const Timing timing = timing_of(latencies[i]);
    if (!method.floor_candidate) {
      rows.push_back({method.name, method.threads, timing.best_ms, timing.median_ms, false});
      continue;
    }
    if (floor_at && rows[*floor_at].best_ms <= timing.best_ms) continue;
    Row floor{"bandwidth floor (best: " + method.name + ")", method.threads, timing.best_ms,
              timing.median_ms, false};
    if (floor_at) {
      rows[*floor_at] = std::move(floor);
    } else {
      floor_at = rows.size();
      rows.push_back(std::move(floor));
    }
  }
  return rows;
}

std::uint64_t mix(std::uint64_t x) {  // splitmix64 finalizer: deterministic data per index
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// ---- baselines ----
// The naive baseline is the scalar loop a C programmer writes first. It is compiled without
// the tree vectorizers and runs on one thread, so it stays scalar whatever -O level is used.
__attribute__((noinline, optimize("no-tree-vectorize", "no-tree-slp-vectorize"))) void
naive_multiply(const float* a, const float* b, float* out, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) out[i] = a[i] * b[i];
}

__attribute__((noinline, optimize("no-tree-vectorize", "no-tree-slp-vectorize"))) void
naive_groupby_mean(const std::int32_t* keys, const double* values, std::size_t n,
                   std::vector<double>& sums, std::vector<std::int64_t>& counts,
                   std::vector<double>& means) {
  std::fill(sums.begin(), sums.end(), 0.0);
  std::fill(counts.begin(), counts.end(), 0);
  for (std::size_t i = 0; i < n; ++i) {
    sums[static_cast<std::size_t>(keys[i])] += values[i];
    ++counts[static_cast<std::size_t>(keys[i])];
  }
  for (std::size_t g = 0; g < sums.size(); ++g) means[g] = sums[g] / static_cast<double>(counts[g]);
}

// Bandwidth floors: the fastest way this machine moves the same memory streams, whatever
// the code: the best of 1 and N threads and, for writes, of regular and non-temporal
// stores. A kernel may only reach a floor, never beat it by more than noise.
__attribute__((noinline)) void floor_multiply(const float* a, const float* b, float* out,
                                              std::size_t n, int threads) {
  const auto count = static_cast<std::ptrdiff_t>(n);
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::ptrdiff_t i = 0; i < count; ++i) out[i] = a[i] * b[i];
}

// Non-temporal stores where the ISA has them: the output is not read into the cache first.
// The widest stores this CPU has (AVX-512, AVX, else SSE2, which every x86-64 has), chosen
// at run time; elsewhere the plain loop.
#if defined(__x86_64__)
// Scalar edges around the aligned vector body; `body(first, count)` runs the vectors.
template <typename Body>
void stream_edges(const float* a, const float* b, float* out, std::size_t n, std::size_t width,
                  Body&& body) {
  const std::size_t bytes = width * sizeof(float);
  const auto misalignment = reinterpret_cast<std::uintptr_t>(out) % bytes;
  const std::size_t head = std::min<std::size_t>(n, misalignment ? (bytes - misalignment) / 4 : 0);
  for (std::size_t i = 0; i < head; ++i) out[i] = a[i] * b[i];
  const std::size_t vectors = (n - head) / width;
  body(head, static_cast<std::ptrdiff_t>(vectors));
  _mm_sfence();
  for (std::size_t i = head + vectors * width; i < n; ++i) out[i] = a[i] * b[i];
}

// The intrinsics sit in the target functions themselves: GCC gives lambdas and templates
// no target of their own.
__attribute__((target("avx512f"), noinline)) void stream_body_avx512(const float* a, const float* b,
                                                                     float* out, std::size_t head,
                                                                     std::ptrdiff_t vectors,
                                                                     int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::ptrdiff_t q = 0; q < vectors; ++q) {
    const std::size_t i = head + static_cast<std::size_t>(q) * 16;
    _mm512_stream_ps(out + i, _mm512_mul_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
  }
}
__attribute__((target("avx"), noinline)) void stream_body_avx(const float* a, const float* b,
                                                              float* out, std::size_t head,
                                                              std::ptrdiff_t vectors, int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::ptrdiff_t q = 0; q < vectors; ++q) {
    const std::size_t i = head + static_cast<std::size_t>(q) * 8;
    _mm256_stream_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
  }
}
__attribute__((noinline)) void stream_body_sse2(const float* a, const float* b, float* out,
                                                std::size_t head, std::ptrdiff_t vectors,
                                                int threads) {
#pragma omp parallel for num_threads(threads) schedule(static)
  for (std::ptrdiff_t q = 0; q < vectors; ++q) {
    const std::size_t i = head + static_cast<std::size_t>(q) * 4;
    _mm_stream_ps(out + i, _mm_mul_ps(_mm_loadu_ps(a + i), _mm_loadu_ps(b + i)));
  }
}
#endif

__attribute__((noinline)) void floor_multiply_streaming(const float* a, const float* b, float* out,
                                                        std::size_t n, int threads) {
#if defined(__x86_64__)
  const bool avx512 = __builtin_cpu_supports("avx512f"), avx = __builtin_cpu_supports("avx");
  const std::size_t width = avx512 ? 16 : avx ? 8 : 4;
  stream_edges(a, b, out, n, width, [&](std::size_t head, std::ptrdiff_t vectors) {
    if (avx512) {
      stream_body_avx512(a, b, out, head, vectors, threads);
    } else if (avx) {
      stream_body_avx(a, b, out, head, vectors, threads);
    } else {
      stream_body_sse2(a, b, out, head, vectors, threads);
    }
  });
#else
  floor_multiply(a, b, out, n, threads);
#endif
}

__attribute__((noinline)) double floor_read(const std::int32_t* keys, const double* values,
                                            std::size_t n, int threads) {
  const auto count = static_cast<std::ptrdiff_t>(n);
  double total = 0;
  long long key_total = 0;
  // simd: lets the compiler reassociate the sums, so the loop is limited by memory, not by
  // the latency of one chain of scalar adds.
#pragma omp parallel for simd num_threads(threads) schedule(static) reduction(+ : total, key_total)
  for (std::ptrdiff_t i = 0; i < count; ++i) {
    total += values[i];
    key_total += keys[i];
  }
  return total + static_cast<double>(key_total);
}

// The same read with software prefetch `ahead` rows in front, a burst per block of rows. On
// machines whose hardware prefetcher keeps too few lines in flight (a virtualized Xeon here)
// this reads faster than the plain loop, so it belongs to the floor.
__attribute__((noinline)) double floor_read_prefetched(const std::int32_t* keys,
                                                       const double* values, std::size_t n,
                                                       int threads, std::size_t ahead) {
  constexpr std::size_t kBlock = 256;
  constexpr std::size_t kLine = 64;
  double total = 0;
  long long key_total = 0;
#pragma omp parallel num_threads(threads) reduction(+ : total, key_total)
  {
    const std::size_t parts = static_cast<std::size_t>(omp_get_num_threads());
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    const std::size_t begin = n / parts * t;
    const std::size_t end = t + 1 == parts ? n : begin + n / parts;
    const auto* key_bytes = reinterpret_cast<const char*>(keys);
    const auto* value_bytes = reinterpret_cast<const char*>(values);
    for (std::size_t block = begin; block < end; block += kBlock) {
      const std::size_t first = std::min(block + ahead, n - 1);
      const std::size_t last = std::min(block + ahead + kBlock, n);
      for (std::size_t b = first * 8; b < last * 8; b += kLine) __builtin_prefetch(value_bytes + b);
      for (std::size_t b = first * 4; b < last * 4; b += kLine) __builtin_prefetch(key_bytes + b);
      const std::size_t stop = std::min(end, block + kBlock);
#pragma omp simd reduction(+ : total, key_total)
      for (std::size_t i = block; i < stop; ++i) {
        total += values[i];
        key_total += keys[i];
      }
    }
  }
  return total + static_cast<double>(key_total);
}

// ---- peers ----

std::optional<fs::path> find_repo_root() {
  std::vector<fs::path> starts;
  if (const char* env = std::getenv("EDGEPERF_ROOT")) starts.emplace_back(env);
  std::error_code ec;
  starts.push_back(fs::current_path(ec));
  if (const std::optional<fs::path> folder = program_folder()) starts.push_back(*folder);
  for (fs::path dir : starts) {
    for (int up = 0; up < 4 && !dir.empty(); ++up, dir = dir.parent_path()) {
      if (fs::exists(dir / "bench/peers/vec_peers.py", ec)) return dir;
      if (dir == dir.parent_path()) break;
    }
  }
  return std::nullopt;
}

std::string shell_quote(const std::string& s) {
  std::string quoted = "'";
  for (char c : s) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// Runs one peer script; returns its JSON lines. Notes about skipped peers go to `notes`.
std::vector<nlohmann::json> run_peer(const std::string& command, std::vector<std::string>& notes) {
  std::vector<nlohmann::json> lines;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    notes.push_back(fmt::format("could not start: {}", command));
    return lines;
  }
  std::string line;
  char buffer[4096];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) {
    line += buffer;
    if (line.empty() || line.back() != '\n') continue;
    auto parsed = nlohmann::json::parse(line, nullptr, false);
    if (!parsed.is_discarded() && parsed.is_object()) lines.push_back(std::move(parsed));
    line.clear();
  }
  const int status = pclose(pipe);
  if (status != 0) notes.push_back(fmt::format("peer exited with status {}: {}", status, command));
  return lines;
}

void add_peer_rows(const VecbenchArgs& args, int threads, std::vector<Row>& multiply,
                   std::vector<Row>& groupby, std::vector<std::string>& notes) {
  const auto root = find_repo_root();
  if (!root) {
    notes.push_back(
        "peers skipped: bench/peers not found (run from the repo or set EDGEPERF_ROOT)");
    return;
  }
  const std::string sizes = fmt::format("--n {} --rows {} --groups {} --threads {} --repeats {}",
                                        args.n, args.rows, args.groups, threads, args.repeats);
  const std::string python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
  const std::vector<std::string> commands = {
      fmt::format("cd {} && {} bench/peers/vec_peers.py {} 2>&1", shell_quote(root->string()),
                  python, sizes),
      fmt::format("cd {} && node bench/peers/vec_peers.mjs {} 2>&1", shell_quote(root->string()),
                  sizes),
  };
  for (const auto& command : commands) {
    for (const auto& line : run_peer(command, notes)) {
      const std::string peer = line.value("peer", "?");
      if (line.contains("skipped")) {
        notes.push_back(fmt::format("{} skipped: {}", peer, line["skipped"].get<std::string>()));
        continue;
      }
      // NumPy's ufuncs and bincount are single-threaded; the others get --threads.
      Row row{line.value("method", peer), peer == "numpy" ? "1" : std::to_string(threads),
              line.value("best_ms", 0.0), line.value("median_ms", 0.0), true};
      (line.value("op", "") == "multiply" ? multiply : groupby).push_back(row);
    }
  }
}

// ---- the two tables ----

std::vector<Row> bench_multiply(const VecbenchArgs& args, int threads) {
  const auto n = static_cast<std::size_t>(args.n);
  std::vector<float> a(n), b(n), out(n), expected(n);  // zero-filled: every page touched
#pragma omp parallel for num_threads(threads)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i) {
    a[i] = 0.5f + static_cast<float>(mix(2 * i) >> 40) * 0x1p-24f;
    b[i] = 0.5f + static_cast<float>(mix(2 * i + 1) >> 40) * 0x1p-24f;
  }
  std::vector<Method> methods;
  methods.push_back(
      {"naive scalar loop", "1", [&] { naive_multiply(a.data(), b.data(), expected.data(), n); }});
  for (int t : floor_thread_counts(threads)) {
    methods.push_back({fmt::format("{} threads, regular stores", t), std::to_string(t),
                       [&, t] { floor_multiply(a.data(), b.data(), out.data(), n, t); }, true});
    methods.push_back({fmt::format("{} threads, non-temporal stores", t), std::to_string(t),
                       [&, t] { floor_multiply_streaming(a.data(), b.data(), out.data(), n, t); },
                       true});
  }
  const auto kernel = [&](StorePolicy store) {
    return [&, store] {
      columnar::elementwise(BinaryOp::mul, std::span<const float>(a), std::span<const float>(b),
                            std::span<float>(out), threads, store);
    };
  };
  methods.push_back({"edgeperf elementwise (regular stores)", std::to_string(threads),
                     kernel(StorePolicy::regular)});
  methods.push_back({"edgeperf elementwise (non-temporal stores)", std::to_string(threads),
                     kernel(StorePolicy::streaming)});
  std::vector<Row> rows = measure_rows(args.repeats, methods);
  // The floors write `out` too, so each kernel is checked on a run of its own.
  for (StorePolicy store : {StorePolicy::regular, StorePolicy::streaming}) {
    std::fill(out.begin(), out.end(), -1.0f);
    kernel(store)();
    for (std::size_t i = 0; i < n; ++i) {
      EP_CHECK(out[i] == expected[i],
               "vecbench: multiply result differs from the naive loop at row {}", i);
    }
  }
  return rows;
}

// Rows of the in-cache groupby run: 768 KB of keys and values, inside a core's L2 on most
// current x86 and ARM cores.
constexpr std::size_t kInCacheRows = 65536;

std::vector<Row> bench_groupby(const VecbenchArgs& args, int threads) {
  const auto n = static_cast<std::size_t>(args.rows);
  const auto groups = static_cast<std::size_t>(args.groups);
  std::vector<std::int32_t> keys(n);
  std::vector<double> values(n);
#pragma omp parallel for num_threads(threads)
  for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(n); ++i) {
    const std::uint64_t h = mix(static_cast<std::uint64_t>(i) + (std::uint64_t{1} << 40));
    keys[i] = static_cast<std::int32_t>(((h >> 32) * groups) >> 32);
    values[i] = static_cast<double>(mix(h) >> 11) * 0x1p-53;
  }
  std::vector<double> sums(groups), naive_means(groups), means(groups);
  std::vector<std::int64_t> counts(groups);
  volatile double sink = 0;
  std::vector<Method> methods;
  methods.push_back({"naive scalar loop", "1", [&] {
                       naive_groupby_mean(keys.data(), values.data(), n, sums, counts, naive_means);
                     }});
  for (int t : floor_thread_counts(threads)) {
    methods.push_back({fmt::format("{} threads, read of keys+values", t), std::to_string(t),
                       [&, t] { sink = floor_read(keys.data(), values.data(), n, t); }, true});
    for (std::size_t ahead : {512, 2048}) {
      methods.push_back(
          {fmt::format("{} threads, read of keys+values, prefetch {} rows ahead", t, ahead),
           std::to_string(t),
           [&, t, ahead] { sink = floor_read_prefetched(keys.data(), values.data(), n, t, ahead); },
           true});
    }
  }
  columnar::GroupByResult result;
  methods.push_back({"edgeperf GroupBy mean", std::to_string(threads), [&] {
                       columnar::GroupBy groupby({columnar::kStatSum}, threads);
                       groupby.add(std::span<const std::int32_t>(keys),
                                   {std::span<const double>(values)});
                       result = groupby.finish();
                       for (std::size_t g = 0; g < result.num_groups(); ++g) {
                         means[g] = result.mean(0, g);
                       }
                     }});
  // The same kernel and row count, fed from a slice small enough to stay in cache: its
  // compute alone. Not a floor of the machine, so not checked against the floor: when the
  // run above takes about as long, memory is overlapped and the kernel is compute-bound.
  const std::size_t slice = std::min<std::size_t>(n, kInCacheRows);
  methods.push_back({fmt::format("edgeperf GroupBy mean, in cache ({} rows fed again)", slice),
                     std::to_string(threads), [&] {
                       columnar::GroupBy groupby({columnar::kStatSum}, threads);
                       for (std::size_t done = 0; done < n; done += slice) {
                         const std::size_t count = std::min(slice, n - done);
                         groupby.add(std::span<const std::int32_t>(keys).first(count),
                                     {std::span<const double>(values).first(count)});
                       }
                       sink = static_cast<double>(groupby.finish().num_groups());
                     }});
  std::vector<Row> rows = measure_rows(args.repeats, methods);
  for (std::size_t g = 0; g < result.num_groups(); ++g) {
    const auto key = static_cast<std::size_t>(result.keys[g]);
    EP_CHECK(std::fabs(means[g] - naive_means[key]) <= 1e-9 * std::fabs(naive_means[key]),
             "vecbench: groupby mean of key {} differs from the naive loop ({} vs {})", key,
             means[g], naive_means[key]);
  }
  return rows;
}

// ---- output ----

const Row* find_row(const std::vector<Row>& rows, const std::string& prefix) {
  for (const auto& row : rows) {
    if (row.method.rfind(prefix, 0) == 0) return &row;
  }
  return nullptr;
}

std::string format_ratio(double ratio) {
  return std::isnan(ratio) ? "-" : fmt::format("{:.2f}x", ratio);
}

nlohmann::json print_table(const std::string& title, const std::vector<Row>& rows,
                           const Row* reference, const std::string& reference_name) {
  const Row* naive = find_row(rows, "naive");
  fmt::print("\n{}\n", title);
  std::size_t width = 56;
  for (const auto& row : rows) width = std::max(width, row.method.size());
  fmt::print("{:<{}} {:>7} {:>10} {:>10} {:>10} {:>10}\n", "method", width, "threads", "best ms",
             "median ms", "vs naive", "vs " + reference_name);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& row : rows) {
    const double speedup = naive ? naive->best_ms / row.best_ms : NAN;
    const double ratio = reference ? row.best_ms / reference->best_ms : NAN;
    fmt::print("{:<{}} {:>7} {:>10.2f} {:>10.2f} {:>10} {:>10}\n", row.method, width, row.threads,
               row.best_ms, row.median_ms, format_ratio(speedup), format_ratio(ratio));
    out.push_back({{"method", row.method},
                   {"threads", row.threads},
                   {"best_ms", row.best_ms},
                   {"median_ms", row.median_ms},
                   {"speedup_vs_naive", speedup},
                   {"ratio_to_" + reference_name, ratio},
                   {"peer", row.is_peer}});
  }
  return out;
}

void run_vecbench(const VecbenchArgs& args) {
  EP_CHECK(args.n >= 0 && args.rows >= 0, "vecbench: --n and --rows must be >= 0");
  EP_CHECK(args.groups >= 1 && args.groups <= (1LL << 30),
           "vecbench: --groups must be in [1, 2^30], got {}", args.groups);
  EP_CHECK(args.repeats >= 1, "vecbench: --repeats must be >= 1, got {}", args.repeats);
  const int threads = args.threads > 0 ? args.threads : omp_get_max_threads();
  std::vector<Row> multiply = args.n > 0 ? bench_multiply(args, threads) : std::vector<Row>{};
  std::vector<Row> groupby = args.rows > 0 ? bench_groupby(args, threads) : std::vector<Row>{};
  std::vector<std::string> notes;
  if (!args.no_peers) add_peer_rows(args, threads, multiply, groupby, notes);

  nlohmann::json report = {
      {"threads", threads}, {"repeats", args.repeats}, {"hardware_threads", omp_get_num_procs()}};
  const Row* floor = find_row(multiply, "bandwidth floor");
  if (args.n > 0) {
    report["multiply"] = {
        {"n", args.n},
        {"results",
         print_table(fmt::format("multiply: out = a * b, {} f32, best of {}", args.n, args.repeats),
                     multiply, floor, "floor")}};
  }
  const Row* duckdb = find_row(groupby, "DuckDB");
  if (args.rows > 0) {
    report["groupby_mean"] = {
        {"rows", args.rows},
        {"groups", args.groups},
        {"results", print_table(fmt::format("groupby-mean: {} f64 rows, {} int32 keys, best of {}",
                                            args.rows, args.groups, args.repeats),
                                groupby, duckdb, "duckdb")}};
  }
  fmt::print("\n");
  const Row* best_kernel = nullptr;
  for (const auto& row : multiply) {
    if (row.method.rfind("edgeperf", 0) == 0 &&
        (!best_kernel || row.best_ms < best_kernel->best_ms))
      best_kernel = &row;
  }
  if (best_kernel && floor) {
    const double ratio = best_kernel->best_ms / floor->best_ms;
    fmt::print("target multiply <= 1.1x bandwidth floor: {:.2f}x ({}) -> {}\n", ratio,
               best_kernel->method, ratio <= 1.1 ? "met" : "missed");
    report["target_multiply_ratio_to_floor"] = ratio;
  }
  const Row* ours = find_row(groupby, "edgeperf");
  const Row* read_floor = find_row(groupby, "bandwidth floor");
  const Row* naive_groupby = find_row(groupby, "naive");
  if (ours && read_floor && naive_groupby) {
    const double ratio = ours->best_ms / read_floor->best_ms;
    const bool beats_naive = ours->best_ms < naive_groupby->best_ms;
    fmt::print(
        "target groupby-mean <= 1.2x bandwidth floor and faster than the naive loop: "
        "{:.2f}x, {:.2f}x the naive loop's time -> {}\n",
        ratio, ours->best_ms / naive_groupby->best_ms,
        ratio <= 1.2 && beats_naive ? "met" : "missed");
    report["target_groupby_ratio_to_floor"] = ratio;
    if (const Row* in_cache = find_row(groupby, "edgeperf GroupBy mean, in cache")) {
      fmt::print(
          "  in cache the kernel takes {:.2f}x the bandwidth floor; from memory it takes {:.2f}x "
          "its in-cache time\n",
          in_cache->best_ms / read_floor->best_ms, ours->best_ms / in_cache->best_ms);
      report["groupby_in_cache_ratio_to_floor"] = in_cache->best_ms / read_floor->best_ms;
    }
  }
  // A floor is a floor: anything faster than it by more than noise means it is wrong.
  for (const auto* table : {&multiply, &groupby}) {
    const Row* table_floor = find_row(*table, "bandwidth floor");
    for (const Row& row : *table) {
      const bool in_cache = row.method.find(", in cache") != std::string::npos;
      if (table_floor && !row.is_peer && !in_cache && row.best_ms < 0.95 * table_floor->best_ms) {
        const std::string note = fmt::format(
            "'{}' beats the bandwidth floor by {:.0f}%: the floor "
            "is not a floor",
            row.method, 100 * (1 - row.best_ms / table_floor->best_ms));
        fmt::print("warning: {}\n", note);
        notes.push_back(note);
      }
    }
  }
  if (ours && duckdb) {
    const double ratio = ours->best_ms / duckdb->best_ms;
    fmt::print("target groupby-mean <= 0.5x DuckDB: {:.2f}x -> {}\n", ratio,
               ratio <= 0.5 ? "met" : "missed");
    report["target_groupby_ratio_to_duckdb"] = ratio;
  }
  for (const auto& note : notes) fmt::print("note: {}\n", note);
  report["notes"] = notes;
  if (!args.json_path.empty()) write_file_atomic(args.json_path, report.dump(2) + "\n");
}

}  // namespace

void add_vecbench_command(CLI::App& app) {
  auto args = std::make_shared<VecbenchArgs>();
  CLI::App* cmd = app.add_subcommand(
      "vecbench",
      "Elementwise-multiply and groupby-mean benchmark vs naive loop, bandwidth floor and peers");
  cmd->add_option("--n", args->n, "f32 elements to multiply")->capture_default_str();
  cmd->add_option("--rows", args->rows, "rows for groupby-mean")->capture_default_str();
  cmd->add_option("--groups", args->groups, "distinct int keys for groupby-mean")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads,
                  "threads for edgeperf and peers (default: all cores)");
  cmd->add_option("--repeats", args->repeats, "timed runs per method (best and median reported)")
      ->capture_default_str();
  cmd->add_option("--json", args->json_path, "write the results as JSON to this file");
  cmd->add_flag("--no-peers", args->no_peers, "skip NumPy/PyTorch/Polars/DuckDB");
  cmd->callback([args] { run_vecbench(*args); });
}

}  // namespace edgeperf::cli
