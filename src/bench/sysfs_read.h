#pragma once
// Reading sysfs and procfs files: one value per file, absent or unreadable files are
// nullopt (sensors come and go; permissions differ).
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace edgeperf::bench::sysfs {

std::optional<std::string> read_line(const std::filesystem::path& file);
std::optional<double> read_number(const std::filesystem::path& file);
// The entries of `directory` whose names match `pattern`, sorted; none when it is absent.
std::vector<std::filesystem::path> sorted_entries(const std::filesystem::path& directory,
                                                  const std::regex& pattern);

}  // namespace edgeperf::bench::sysfs
