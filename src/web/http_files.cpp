#include "http_files.h"

#include <sys/socket.h>

#include <memory>

#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"
#include "edgeperf/web/dashboard.h"

namespace edgeperf::web {

namespace fs = std::filesystem;

std::string content_type_for(const fs::path& file) {
  const std::string ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs" || ext == ".cjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".json" || ext == ".map") return "application/json";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  return "application/octet-stream";
}

void not_found(httplib::Response& res) {
  res.status = 404;
  res.set_content("not found\n", "text/plain");
}

void serve_file(const fs::path& root, const std::string& relative, httplib::Response& res) {
  std::optional<fs::path> file = resolve_asset(root, relative);
  if (!file) return not_found(res);
  try {
    res.set_content(read_file(*file), content_type_for(*file));
  } catch (const Error&) {
    not_found(res);
  }
}

bool is_loopback(const std::string& host) {
  return host == "127.0.0.1" || host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

int bind_for_bursts(httplib::Server& http, const std::string& bind, int port) {
  // Shared, not a reference to this frame: httplib keeps the callback.
  auto listen_fd = std::make_shared<int>(-1);
  http.set_socket_options([listen_fd](int fd) {
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    *listen_fd = fd;
  });
  const int bound =
      port == 0 ? http.bind_to_any_port(bind) : (http.bind_to_port(bind, port) ? port : -1);
  if (bound > 0 && *listen_fd >= 0) ::listen(*listen_fd, SOMAXCONN);
  return bound;
}

}  // namespace edgeperf::web
