// HTTP server of `edgeperf dashboard`: routes, SSE stream, acquisition thread.
#include <fmt/format.h>
#include <httplib.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/web/dashboard.h"
#include "http_files.h"

namespace edgeperf::web {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using sensors::ImuSample;

constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr double kRingSeconds = 10;

std::int64_t realtime_ns() {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<std::int64_t>(now.tv_sec) * kNsPerSecond + now.tv_nsec;
}

double ms(std::int64_t ns) { return static_cast<double>(ns) / 1e6; }

struct StateChange {
  std::string state;
  std::int64_t ts_ns = 0;  // first sample in the new state
};

// What the acquisition thread shares with request handlers.
struct Hub {
  explicit Hub(std::size_t capacity) : ring(capacity) {}
  SampleRing ring;
  std::mutex mutex;  // guards kpis, changes; used with `fresh`
  std::condition_variable fresh;
  Kpis kpis;
  std::vector<StateChange> source_state_changes;  // ground truth of the simulator
  std::atomic<bool> acquiring{false};
};

std::string source_state_name(const sensors::Source& source) {
  std::optional<sensors::MotionState> state = source.motion_state();
  return state ? sensors::motion_state_name(*state) : "";
}

void record_state_change(Hub& hub, const std::string& state, std::int64_t ts_ns) {
  std::lock_guard lock(hub.mutex);
  if (!hub.source_state_changes.empty() && hub.source_state_changes.back().state == state) return;
  hub.source_state_changes.push_back({state, ts_ns});
  if (hub.source_state_changes.size() > 64) {
    hub.source_state_changes.erase(hub.source_state_changes.begin());
  }
}

// Samples on absolute deadlines so the rate does not drift with processing time.
void acquire(sensors::Source& source, double rate_hz, const MotionThresholds& thresholds, Hub& hub,
             const std::atomic<bool>& stop) {
  const auto period_ns = static_cast<std::int64_t>(1e9 / rate_hz);
  timespec deadline{};
  clock_gettime(CLOCK_MONOTONIC, &deadline);
  hub.acquiring.store(true);
  while (!stop.load() && !source.exhausted()) {
    deadline.tv_nsec += period_ns;
    while (deadline.tv_nsec >= kNsPerSecond) {
      deadline.tv_nsec -= kNsPerSecond;
      ++deadline.tv_sec;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &deadline, nullptr);
    std::optional<ImuSample> sample = source.read();
    if (!sample) continue;
    if (!source.has_timestamps()) sample->ts_ns = realtime_ns();
    hub.ring.push(*sample);
    const Kpis kpis = compute_kpis(hub.ring.last_window(kNsPerSecond), thresholds);
    const std::string truth = source_state_name(source);
    if (!truth.empty()) record_state_change(hub, truth, sample->ts_ns);
    {
      std::lock_guard lock(hub.mutex);
      hub.kpis = kpis;
    }
    hub.fresh.notify_all();
  }
  hub.acquiring.store(false);
  hub.fresh.notify_all();
}

std::string upper(std::string text) {
  for (char& c : text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

json kpis_json(const Kpis& kpis) {
  return {{"window_samples", kpis.samples},
          {"rms_accel_ms2", kpis.rms_dynamic_accel},
          {"peak_gyro_dps", kpis.peak_gyro},
          {"temperature_c", kpis.temperature_c},
          {"pitch_deg", kpis.pitch_deg},
          {"roll_deg", kpis.roll_deg},
          {"state", upper(sensors::motion_state_name(kpis.state))}};
}

json sample_row(const ImuSample& s) {
  return json::array(
      {ms(s.ts_ns), s.accel_x, s.accel_y, s.accel_z, s.gyro_x, s.gyro_y, s.gyro_z, s.temp_c});
}

// A numeric field of /proc/self/status ("Threads:", "VmRSS:" in kB); -1 if absent.
long long proc_status_field(const std::string& name) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(name, 0) == 0) return std::stoll(line.substr(name.size()));
  }
  return -1;
}

struct Server {
  const DashboardOptions& options;
  fs::path web_dir, uplot_dir, three_dir;
  Hub hub;
  ClientLimiter limiter;
  std::optional<ChunkWatcher> chunks;
  const std::atomic<bool>& stop;
  std::atomic<std::uint64_t> events_sent{0};
  httplib::Server http;

  Server(const DashboardOptions& opts, const fs::path& assets, const std::atomic<bool>& stop_flag)
      : options(opts),
        web_dir(assets / "web"),
        uplot_dir(assets / "node_modules" / "uplot" / "dist"),
        three_dir(assets / "node_modules" / "three" / "build"),
        hub(static_cast<std::size_t>(opts.rate_hz * kRingSeconds)),
        limiter(opts.max_clients),
        stop(stop_flag) {}

  void add_routes();
  void stream(httplib::Response& res);
  json latest() const;
  json stats();
  void chunks_api(const httplib::Request& req, httplib::Response& res);
  void reports_list(httplib::Response& res) const;
  void report(const std::string& name, httplib::Response& res) const;
};

json Server::latest() const {
  std::optional<ImuSample> newest = hub.ring.newest();
  Kpis kpis;
  {
    std::lock_guard lock(const_cast<Hub&>(hub).mutex);
    kpis = hub.kpis;
  }
  json out = {{"server_ts_ms", ms(realtime_ns())}, {"kpis", kpis_json(kpis)}};
  out["sample"] = newest ? sample_row(*newest) : json(nullptr);
  out["columns"] = {"ts_ms",  "accel_x", "accel_y", "accel_z",
                    "gyro_x", "gyro_y",  "gyro_z",  "temp_c"};
  return out;
}

json Server::stats() {
  json changes = json::array();
  {
    std::lock_guard lock(hub.mutex);
    for (const StateChange& change : hub.source_state_changes) {
      changes.push_back({{"state", upper(change.state)}, {"ts_ms", ms(change.ts_ns)}});
    }
  }
  return {{"active_clients", limiter.active()},
          {"max_clients", limiter.max_clients()},
          {"threads", proc_status_field("Threads:")},
          {"rss_kib", proc_status_field("VmRSS:")},
          {"events_sent", events_sent.load()},
          {"ring_samples", hub.ring.size()},
          {"ring_capacity", hub.ring.capacity()},
          {"rate_hz", options.rate_hz},
          {"acquiring", hub.acquiring.load()},
          {"source", options.source},
          {"source_state_changes", changes},
          {"still_below_ms2", options.thresholds.still_below},
          {"shaking_above_ms2", options.thresholds.shaking_above},
          {"still_gyro_below_dps", options.thresholds.still_gyro_below}};
}

// One SSE event per batch of new samples, at most one per min_event_interval_ms.
void Server::stream(httplib::Response& res) {
  auto slot = std::make_shared<ClientLimiter::Slot>(limiter.try_acquire());
  if (!*slot) {
    res.status = 503;
    res.set_content("too many stream clients\n", "text/plain");
    return;
  }
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  struct Cursor {
    std::uint64_t last_seq = 0;
    std::chrono::steady_clock::time_point next_send{};
    bool first = true;
  };
  auto cursor = std::make_shared<Cursor>();
  cursor->last_seq = hub.ring.last_seq();
  const auto interval =
      std::chrono::microseconds(static_cast<std::int64_t>(options.min_event_interval_ms * 1000));
  res.set_chunked_content_provider(
      "text/event-stream", [this, slot, cursor, interval](std::size_t, httplib::DataSink& sink) {
        if (cursor->first) {
          cursor->first = false;
          const std::string hello = "retry: 1000\n\n";
          return sink.write(hello.data(), hello.size());
        }
        std::this_thread::sleep_until(cursor->next_send);
        {
          std::unique_lock lock(hub.mutex);
          hub.fresh.wait_for(lock, std::chrono::seconds(1),
                             [&] { return stop.load() || hub.ring.last_seq() > cursor->last_seq; });
        }
        if (stop.load()) {
          sink.done();
          return false;
        }
        std::uint64_t newest_seq = cursor->last_seq;
        std::vector<ImuSample> samples = hub.ring.since(cursor->last_seq, &newest_seq);
        if (samples.empty()) {
          const std::string keepalive = ": idle\n\n";  // also detects a closed connection
          return sink.write(keepalive.data(), keepalive.size());
        }
        cursor->last_seq = newest_seq;
        cursor->next_send = std::chrono::steady_clock::now() + interval;
        json rows = json::array();
        for (const ImuSample& s : samples) rows.push_back(sample_row(s));
        Kpis kpis;
        {
          std::lock_guard lock(hub.mutex);
          kpis = hub.kpis;
        }
        json event = {{"seq", newest_seq},
                      {"newest_ts_ms", ms(samples.back().ts_ns)},
                      {"kpis", kpis_json(kpis)},
                      {"samples", std::move(rows)}};
        event["send_ts_ms"] = ms(realtime_ns());
        const std::string text = "data: " + event.dump() + "\n\n";
        events_sent.fetch_add(1);
        return sink.write(text.data(), text.size());
      });
}

void Server::chunks_api(const httplib::Request& req, httplib::Response& res) {
  const std::string axis = req.has_param("axis") ? req.get_param_value("axis") : "accel_x";
  double seconds = 30;
  if (req.has_param("seconds")) {
    try {
      seconds = std::stod(req.get_param_value("seconds"));
    } catch (const std::exception&) {
      seconds = -1;
    }
  }
  if (!is_imu_axis(axis) || !(seconds > 0 && seconds <= 3600)) {
    res.status = 400;
    res.set_content(json({{"error", "axis must be an IMU column and seconds in (0, 3600]"}}).dump(),
                    "application/json");
    return;
  }
  json out = {{"axis", axis}, {"seconds", seconds}, {"server_ts_ms", ms(realtime_ns())}};
  json ts = json::array(), values = json::array();
  if (chunks) {
    ChunkWatcher::Series series = chunks->read_recent(axis, seconds);
    for (std::int64_t t : series.ts_ns) ts.push_back(ms(t));
    for (double v : series.values) values.push_back(v);
    out["source"] = "parquet";
    out["files_read"] = series.files_read;
    out["files_skipped"] = series.files_skipped;
  } else {
    const auto window = static_cast<std::int64_t>(seconds * 1e9);
    for (const ImuSample& s : hub.ring.last_window(window)) {
      ts.push_back(ms(s.ts_ns));
      const float by_axis[] = {s.accel_x, s.accel_y, s.accel_z, s.gyro_x,
                               s.gyro_y,  s.gyro_z,  s.temp_c};
      static constexpr const char* kOrder[] = {"accel_x", "accel_y", "accel_z", "gyro_x",
                                               "gyro_y",  "gyro_z",  "temp_c"};
      for (int i = 0; i < 7; ++i) {
        if (axis == kOrder[i]) values.push_back(by_axis[i]);
      }
    }
    out["source"] = "ring";
  }
  out["rows"] = ts.size();
  out["ts_ms"] = std::move(ts);
  out["values"] = std::move(values);
  res.set_content(out.dump(), "application/json");
}

void Server::reports_list(httplib::Response& res) const {
  json list = json::array();
  std::error_code error;
  if (!options.reports_dir.empty()) {
    for (const auto& entry : fs::directory_iterator(options.reports_dir, error)) {
      if (entry.path().extension() != ".json" || !entry.is_regular_file(error)) continue;
      std::string schema;
      try {
        json doc = json::parse(read_file(entry.path()));
        schema = doc.value("schema", "");
      } catch (const std::exception&) {
        continue;  // not a report
      }
      if (schema != "edgeperf.bench/1") continue;
      list.push_back(
          {{"name", entry.path().filename().string()}, {"bytes", entry.file_size(error)}});
    }
  }
  std::sort(list.begin(), list.end(),
            [](const json& a, const json& b) { return a["name"] < b["name"]; });
  res.set_content(json({{"reports", list}}).dump(), "application/json");
}

void Server::report(const std::string& name, httplib::Response& res) const {
  if (options.reports_dir.empty() || name.size() < 6 || name.substr(name.size() - 5) != ".json" ||
      name.find('/') != std::string::npos) {
    return not_found(res);
  }
  serve_file(options.reports_dir, name, res);
}

void Server::add_routes() {
  auto page = [this](const char* file) {
    return [this, file](const httplib::Request&, httplib::Response& res) {
      serve_file(web_dir, file, res);
    };
  };
  http.Get("/", page("pro.html"));
  http.Get("/pro", page("pro.html"));
  http.Get("/student", page("student.html"));
  http.Get("/reports", page("reports.html"));
  http.Get(R"(/static/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    serve_file(web_dir, req.matches[1], res);
  });
  http.Get(R"(/vendor/uplot/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    serve_file(uplot_dir, req.matches[1], res);
  });
  http.Get(R"(/vendor/three/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    serve_file(three_dir, req.matches[1], res);
  });
  http.Get("/api/latest", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(latest().dump(), "application/json");
  });
  http.Get("/api/stats", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(stats().dump(), "application/json");
  });
  http.Get("/api/stream", [this](const httplib::Request&, httplib::Response& res) { stream(res); });
  http.Get("/api/chunks",
           [this](const httplib::Request& req, httplib::Response& res) { chunks_api(req, res); });
  http.Get("/api/reports",
           [this](const httplib::Request&, httplib::Response& res) { reports_list(res); });
  http.Get(R"(/api/reports/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
    report(req.matches[1], res);
  });
}

}  // namespace

fs::path locate_assets(const fs::path& hint) {
  auto has_assets = [](const fs::path& dir) {
    std::error_code error;
    return fs::is_regular_file(dir / "web" / "pro.html", error) &&
           fs::is_directory(dir / "node_modules" / "uplot" / "dist", error) &&
           fs::is_directory(dir / "node_modules" / "three" / "build", error);
  };
  if (!hint.empty()) {
    EP_CHECK(has_assets(hint),
             "--assets {}: needs web/pro.html, node_modules/uplot/dist and "
             "node_modules/three/build",
             hint.string());
    return hint;
  }
  // A build tree keeps them in the checkout above the binary; an installed package in
  // share/edgeperf beside bin/ (/usr/bin/edgeperf: /usr/share/edgeperf).
  for (fs::path dir = program_folder().value_or(fs::path()); !dir.empty() && dir != dir.root_path();
       dir = dir.parent_path()) {
    if (has_assets(dir)) return dir;
    if (has_assets(dir / "share" / "edgeperf")) return dir / "share" / "edgeperf";
  }
  const fs::path source_dir = EP_WEB_SOURCE_DIR;
  if (has_assets(source_dir)) return source_dir;
  fail(
      "dashboard assets not found (web/ and node_modules/ with uplot and three); "
      "run `npm install --ignore-scripts` in the repository or pass --assets DIR");
}

void run_dashboard(const DashboardOptions& options, const std::atomic<bool>& stop) {
  validate(options.thresholds);
  EP_CHECK(options.rate_hz > 0 && options.rate_hz <= 1000, "--rate must be in (0, 1000], got {}",
           options.rate_hz);
  EP_CHECK(options.port >= 0 && options.port <= 65535, "--port must be in [0, 65535], got {}",
           options.port);
  EP_CHECK(options.max_clients >= 1 && options.max_clients <= 10000,
           "--max-clients must be in [1, 10000], got {}", options.max_clients);
  const fs::path assets = locate_assets(options.assets_dir);
  Server server(options, assets, stop);

  std::unique_ptr<sensors::Source> source;
  const std::string parquet_prefix = "parquet:";
  if (options.source.rfind(parquet_prefix, 0) == 0) {
    const fs::path dir = options.source.substr(parquet_prefix.size());
    std::error_code error;
    EP_CHECK(fs::is_directory(dir, error), "--source {}: not a directory", options.source);
    server.chunks.emplace(dir);
  } else {
    source = sensors::open_source(options.source);
    source->start(options.rate_hz);
  }
  if (!options.reports_dir.empty()) {
    std::error_code error;
    EP_CHECK(fs::is_directory(options.reports_dir, error), "--reports {}: not a directory",
             options.reports_dir.string());
  }
  if (!is_loopback(options.bind)) {
    fmt::print(stderr,
               "edgeperf: warning: dashboard bound to {} is reachable from other machines; it "
               "has no authentication\n",
               options.bind);
  }

  // One worker per stream client plus headroom for pages, assets and API calls.
  const std::size_t workers = options.max_clients + 32;
  server.http.new_task_queue = [workers] { return new httplib::ThreadPool(workers); };
  server.http.set_keep_alive_max_count(1'000'000);
  server.http.set_keep_alive_timeout(2);
  server.http.set_tcp_nodelay(true);
  server.add_routes();
  const int port = bind_for_bursts(server.http, options.bind, options.port);
  EP_CHECK(port > 0, "cannot listen on {}:{} (address in use or not available)", options.bind,
           options.port);

  std::thread acquisition;
  if (source) {
    acquisition = std::thread(
        [&] { acquire(*source, options.rate_hz, options.thresholds, server.hub, stop); });
  }
  std::thread listener([&] { server.http.listen_after_bind(); });
  fmt::print("edgeperf dashboard: http://{}:{}/ (pro), /student, /reports; source {}\n",
             options.bind, port, source ? source->describe() : options.source);
  std::fflush(stdout);
  while (!stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  server.hub.fresh.notify_all();
  server.http.stop();
  listener.join();
  if (acquisition.joinable()) acquisition.join();
  fmt::print("edgeperf dashboard: stopped; {} events sent\n", server.events_sent.load());
}

}  // namespace edgeperf::web
