// Helper for the Parquet peer test and the write benchmark.
//   parquet_tool write-sample OUT --rows N [--compression C] [--row-group-rows R]
//                [--no-dictionary] [--zstd-level L]
//   parquet_tool dump FILE [--columns a,b]        JSON, every value as a string
//   parquet_tool bench-write OUT --rows N [--compression C] [--repeat K]
//   parquet_tool bench-read FILE [--repeat K]
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "edgeperf/columnar/parquet.h"
#include "edgeperf/core/error.h"
#include "imu_sample.h"

namespace {

using namespace edgeperf::columnar;

struct Args {
  std::string command;
  std::string path;
  std::map<std::string, std::string> options;
  bool has(const std::string& name) const { return options.count(name) != 0; }
  std::string get(const std::string& name, const std::string& fallback) const {
    const auto it = options.find(name);
    return it == options.end() ? fallback : it->second;
  }
  std::size_t number(const std::string& name, std::size_t fallback) const {
    return has(name) ? std::stoull(options.at(name)) : fallback;
  }
};

Args parse_args(int argc, char** argv) {
  EP_CHECK(argc >= 3, "usage: parquet_tool write-sample|dump|bench-write PATH [options]");
  Args args{argv[1], argv[2], {}};
  for (int i = 3; i < argc; ++i) {
    const std::string flag = argv[i];
    EP_CHECK(flag.rfind("--", 0) == 0, "unexpected argument '{}'", flag);
    if (flag == "--no-dictionary") {
      args.options[flag] = "1";
      continue;
    }
    EP_CHECK(i + 1 < argc, "option {} needs a value", flag);
    args.options[flag] = argv[++i];
  }
  return args;
}

WriteOptions write_options(const Args& args) {
  WriteOptions options;
  options.compression = parse_compression(args.get("--compression", "zstd"));
  options.row_group_rows = args.number("--row-group-rows", options.row_group_rows);
  options.zstd_level = static_cast<int>(args.number("--zstd-level", 1));
  options.dictionary = !args.has("--no-dictionary");
  return options;
}


std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    const std::size_t end = text.find(',', start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return parts;
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\u{:04x}", static_cast<int>(c));
      continue;
    }
    out += c;
  }
  return out + "\"";
}

void dump(const Args& args) {
  const ParquetReader reader(args.path);
  const Table table = reader.read_all(split_commas(args.get("--columns", "")));
  std::string out = fmt::format("{{\"num_rows\":{},\"row_groups\":{},\"schema\":[",
                                reader.num_rows(), reader.num_row_groups());
  for (std::size_t i = 0; i < table.schema.size(); ++i) {
    const Field& f = table.schema[i];
    out += fmt::format("{}{{\"name\":{},\"type\":\"{}\",\"timestamp_ns\":{}}}", i ? "," : "",
                       json_string(f.name), physical_type_name(f.type), f.timestamp_ns);
  }
  out += "],\"columns\":{";
  for (std::size_t i = 0; i < table.schema.size(); ++i) {
    out += fmt::format("{}{}:[", i ? "," : "", json_string(table.schema[i].name));
    std::visit(
        [&](const auto& values) {
          for (std::size_t r = 0; r < values.size(); ++r) {
            out += fmt::format("{}\"{}\"", r ? "," : "", values[r]);
          }
        },
        table.columns[i]);
    out += "]";
  }
  out += "}}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6;
}

void bench_write(const Args& args) {
  const std::size_t rows = args.number("--rows", 5'000'000);
  const std::size_t repeat = args.number("--repeat", 3);
  const WriteOptions options = write_options(args);
  const Table table = testing::imu_sample(rows);
  double best_write = 1e30;
  double best_encode = 1e30;
  double best_cpu = 1e30;
  std::size_t bytes = 0;
  for (std::size_t i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    bytes = encode_parquet(table, options).size();
    const auto t1 = std::chrono::steady_clock::now();
    const double cpu0 = process_cpu_seconds();
    write_parquet(args.path, table, options);
    const auto t2 = std::chrono::steady_clock::now();
    best_cpu = std::min(best_cpu, process_cpu_seconds() - cpu0);
    best_encode = std::min(best_encode, std::chrono::duration<double>(t1 - t0).count());
    best_write = std::min(best_write, std::chrono::duration<double>(t2 - t1).count());
  }
  std::printf(
      "{\"rows\":%zu,\"compression\":\"%s\",\"bytes\":%zu,\"encode_s\":%.4f,\"write_s\":%.4f,"
      "\"encode_mrows_s\":%.3f,\"write_mrows_s\":%.3f,\"write_cpu_s\":%.4f}\n",
      rows, args.get("--compression", "zstd").c_str(), bytes, best_encode, best_write,
      rows / best_encode / 1e6, rows / best_write / 1e6, best_cpu);
}

void bench_read(const Args& args) {
  const std::size_t repeat = args.number("--repeat", 3);
  double best = 1e30;
  std::size_t rows = 0;
  for (std::size_t i = 0; i < repeat; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    const ParquetReader reader(args.path);
    rows = reader.read_all().num_rows();
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("{\"rows\":%zu,\"read_s\":%.4f,\"read_mrows_s\":%.3f}\n", rows, best,
              rows / best / 1e6);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args args = parse_args(argc, argv);
    if (args.command == "write-sample") {
      write_parquet(args.path, testing::imu_sample(args.number("--rows", 1000)),
                    write_options(args));
    } else if (args.command == "dump") {
      dump(args);
    } else if (args.command == "bench-write") {
      bench_write(args);
    } else if (args.command == "bench-read") {
      bench_read(args);
    } else {
      edgeperf::fail("unknown command '{}'", args.command);
    }
    return 0;
  } catch (const std::exception& error) {
    std::fprintf(stderr, "parquet_tool: %s\n", error.what());
    return 1;
  }
}
