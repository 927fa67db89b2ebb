#pragma once
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <optional>
#include <span>
#include <string>

namespace edgeperf {

// Reads a whole file; throws Error naming the path when it cannot.
std::string read_file(const std::filesystem::path& path);
// A binary stream on `path`; an Error naming the file when it is a directory or cannot
// be opened.
std::ifstream open_for_reading(const std::filesystem::path& path);

// Writes a file atomically: a temporary name in the same directory, fsync,
// rename over the final name, fsync of the directory. On any failure the
// temporary is removed, the final name is untouched, and Error names the path.
void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes);
void write_file_atomic(const std::filesystem::path& path, const std::string& text);

// The folder of the running program (from /proc/self/exe), where edgeperf finds the
// programs, modules and assets installed beside it; nullopt when it cannot be read.
std::optional<std::filesystem::path> program_folder();

}  // namespace edgeperf
