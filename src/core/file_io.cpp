#include "edgeperf/core/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

#include "edgeperf/core/error.h"

namespace edgeperf {
namespace {

std::string errno_text() { return std::strerror(errno); }

void write_all(int fd, const std::byte* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    EP_CHECK(written > 0, "{}: write failed: {}", path, errno_text());
    data += written;
    size -= static_cast<std::size_t>(written);
  }
}

void fsync_directory(const std::filesystem::path& directory) {
  const int fd = ::open(directory.empty() ? "." : directory.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

std::ifstream open_for_reading(const std::filesystem::path& path) {
  std::error_code error;
  EP_CHECK(!std::filesystem::is_directory(path, error), "{}: is a directory, not a file",
           path.string());
  std::ifstream stream(path, std::ios::binary);
  EP_CHECK(stream.good(), "{}: cannot open: {}", path.string(), errno_text());
  return stream;
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream stream = open_for_reading(path);
  std::ostringstream contents;
  contents << stream.rdbuf();
  EP_CHECK(!stream.bad(), "{}: read failed", path.string());
  return std::move(contents).str();
}

void write_file_atomic(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  const std::filesystem::path directory = path.parent_path();
  std::random_device entropy;
  const std::filesystem::path temporary =
      path.string() + fmt::format(".tmp-{}-{:x}", ::getpid(), entropy());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  EP_CHECK(fd >= 0, "{}: cannot create: {}", path.string(), errno_text());
  try {
    write_all(fd, bytes.data(), bytes.size(), path.string());
    EP_CHECK(::fsync(fd) == 0, "{}: fsync failed: {}", path.string(), errno_text());
    EP_CHECK(::close(fd) == 0, "{}: close failed: {}", path.string(), errno_text());
  } catch (...) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const std::string reason = errno_text();
    ::unlink(temporary.c_str());
    fail("{}: cannot rename into place: {}", path.string(), reason);
  }
  fsync_directory(directory);
}

void write_file_atomic(const std::filesystem::path& path, const std::string& text) {
  write_file_atomic(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

std::optional<std::filesystem::path> program_folder() {
  std::error_code error;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return std::nullopt;
  return self.parent_path();
}

}  // namespace edgeperf
