#pragma once
// Static files for the web views: assets below a root, 404 for anything else.
#include <httplib.h>

#include <filesystem>
#include <string>

namespace edgeperf::web {

std::string content_type_for(const std::filesystem::path& file);
void not_found(httplib::Response& res);
// The file `relative` below `root` (resolve_asset rules), or 404.
void serve_file(const std::filesystem::path& root, const std::string& relative,
                httplib::Response& res);

// 127.x.x.x, localhost or ::1: a server bound there is not reachable from other machines.
bool is_loopback(const std::string& host);

// Binds `http` to bind:port (0: any free port) and returns the port, or -1 when the
// address cannot be bound. Sets SO_REUSEADDR, and listens with the system's maximum
// backlog: httplib's 5 would drop the SYNs of a burst of clients (dozens of stream
// viewers connecting at once), to be retried seconds later. Call before listen_after_bind.
int bind_for_bursts(httplib::Server& http, const std::string& bind, int port);

}  // namespace edgeperf::web
