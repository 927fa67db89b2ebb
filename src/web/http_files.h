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

}  // namespace edgeperf::web
