// The real server in-process (run under ASan/UBSan too): endpoints, the stream client
// limit, disconnect cleanup and a clean stop.
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "edgeperf/web/dashboard.h"

namespace edgeperf::web {
namespace {

using namespace std::chrono_literals;

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

nlohmann::json get_json(httplib::Client& client, const std::string& path) {
  httplib::Result result = client.Get(path.c_str());
  if (!result || result->status != 200) return nullptr;
  return nlohmann::json::parse(result->body);
}

template <typename Probe>
bool eventually(Probe probe) {
  for (auto deadline = std::chrono::steady_clock::now() + 10s;
       std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(20ms)) {
    if (probe()) return true;
  }
  return false;
}

class RunningServer : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.source = "sim:1";
    options_.port = free_port();
    options_.assets_dir = EP_SOURCE_DIR;
    options_.max_clients = 3;
    server_ = std::thread([this] {
      try {
        run_dashboard(options_, stop_);
      } catch (const std::exception& error) {
        failure_ = error.what();
      }
    });
    client_ = std::make_unique<httplib::Client>("127.0.0.1", options_.port);
    ASSERT_TRUE(eventually([this] {
      nlohmann::json stats = get_json(*client_, "/api/stats");
      return !stats.is_null() && stats["ring_samples"].get<int>() > 0;
    })) << failure_;
  }
  void TearDown() override {
    stop_.store(true);
    server_.join();
    EXPECT_EQ(failure_, "");
  }
  DashboardOptions options_;
  std::atomic<bool> stop_{false};
  std::thread server_;
  std::string failure_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(RunningServer, ServesLatestPagesAndRejectsTraversal) {
  nlohmann::json latest = get_json(*client_, "/api/latest");
  ASSERT_FALSE(latest.is_null());
  EXPECT_EQ(latest["sample"].size(), 8u);
  EXPECT_EQ(latest["kpis"]["state"], "STILL");  // sim starts still
  EXPECT_EQ(client_->Get("/pro")->status, 200);
  EXPECT_EQ(client_->Get("/vendor/uplot/uPlot.iife.min.js")->status, 200);
  for (const char* bad : {"/static/../../package.json", "/static/%2e%2e%2f%2e%2e%2fpackage.json",
                          "/static/..%2f..%2fpackage.json", "/vendor/three/..%2f..%2fpackage.json",
                          "/api/reports/x.json"}) {
    httplib::Result result = client_->Get(bad);
    ASSERT_TRUE(result) << bad;
    EXPECT_EQ(result->status, 404) << bad;
  }
  EXPECT_EQ(client_->Get("/api/chunks?axis=nope")->status, 400);
  nlohmann::json chunks = get_json(*client_, "/api/chunks?axis=gyro_x&seconds=1");
  EXPECT_EQ(chunks["source"], "ring");
  EXPECT_GT(chunks["rows"].get<int>(), 0);
}

TEST_F(RunningServer, LimitsStreamsAndReleasesThemOnDisconnect) {
  std::atomic<bool> hang_up{false};
  std::atomic<int> events{0};
  std::vector<std::thread> streams;
  for (std::size_t i = 0; i < options_.max_clients; ++i) {
    streams.emplace_back([&] {
      httplib::Client client("127.0.0.1", options_.port);
      client.Get("/api/stream", [&](const char* data, std::size_t size) {
        if (std::string(data, size).find("data: ") != std::string::npos) events.fetch_add(1);
        return !hang_up.load();
      });
    });
  }
  ASSERT_TRUE(eventually([&] {
    return get_json(*client_, "/api/stats")["active_clients"].get<std::size_t>() ==
           options_.max_clients;
  }));
  EXPECT_EQ(client_->Get("/api/stream")->status, 503);
  EXPECT_TRUE(eventually([&] { return events.load() >= 6; }));
  hang_up.store(true);
  for (std::thread& stream : streams) stream.join();
  EXPECT_TRUE(eventually(
      [&] { return get_json(*client_, "/api/stats")["active_clients"].get<std::size_t>() == 0; }));
}

TEST_F(RunningServer, StopsWhileAStreamIsOpen) {
  std::thread stream([this] {
    httplib::Client client("127.0.0.1", options_.port);
    client.Get("/api/stream", [](const char*, std::size_t) { return true; });
  });
  ASSERT_TRUE(eventually(
      [&] { return get_json(*client_, "/api/stats")["active_clients"].get<std::size_t>() == 1; }));
  stop_.store(true);
  stream.join();  // the server ends the stream; the client returns
}

}  // namespace
}  // namespace edgeperf::web
