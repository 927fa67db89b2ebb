#include "edgeperf/runtime/initializer_releases.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

#include "edgeperf/core/error.h"

namespace edgeperf::runtime {
namespace {

// The whole pages inside [bytes, bytes + size): madvise may discard only those, and the
// partial pages at either end stay as they are.
std::pair<std::uintptr_t, std::uintptr_t> whole_pages(const void* bytes, std::size_t size) {
  const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
  const auto begin = reinterpret_cast<std::uintptr_t>(bytes);
  const std::uintptr_t first = (begin + page - 1) / page * page;
  const std::uintptr_t last = (begin + size) / page * page;
  return {first, std::max(first, last)};
}

}  // namespace

InitializerReleases::InitializerReleases(std::set<std::string> candidates)
    : candidates_(std::move(candidates)) {}

bool InitializerReleases::may_release(const std::string& name) const {
  return candidates_.count(name) != 0 && !is_released(name);
}

bool InitializerReleases::is_released(const std::string& name) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const Entry& entry) { return entry.name == name; });
}

void InitializerReleases::release(const std::string& name, const Tensor& tensor, Refill refill) {
  EP_CHECK(may_release(name), "internal: initializer '{}' released twice or not releasable", name);
  // The pages are anonymous memory this graph alone holds (releasable_initializers):
  // after MADV_DONTNEED they read as zeros until written again.
  void* bytes = const_cast<void*>(tensor.raw());
  const auto [first, last] = whole_pages(bytes, tensor.nbytes());
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
  entries_.push_back(Entry{name, bytes, tensor.nbytes(), std::move(refill)});
}

void InitializerReleases::refill_from(std::size_t first) {
  for (std::size_t index = entries_.size(); index-- > first;) {
    entries_[index].refill(entries_[index].bytes);
    entries_.pop_back();
  }
}

void InitializerReleases::refill(const std::string& name) {
  const auto found = std::find_if(entries_.begin(), entries_.end(),
                                  [&](const Entry& entry) { return entry.name == name; });
  if (found == entries_.end()) return;
  found->refill(found->bytes);
  entries_.erase(found);
}

std::vector<std::string> InitializerReleases::released_names() const {
  std::vector<std::string> names;
  for (const Entry& entry : entries_) names.push_back(entry.name);
  return names;
}

std::size_t InitializerReleases::released_bytes() const {
  std::size_t bytes = 0;
  for (const Entry& entry : entries_) bytes += entry.size;
  return bytes;
}

std::set<std::string> releasable_initializers(const graph::Graph& graph, std::size_t min_bytes) {
  std::set<std::string> names;
  for (const auto& [name, tensor] : graph.initializers) {
    if (tensor.nbytes() < min_bytes || !tensor.sole_owner()) continue;
    if (!graph.has_sole_consumer(name) || graph.find_input(name) != nullptr) continue;
    names.insert(name);
  }
  return names;
}

}  // namespace edgeperf::runtime
