#include "packed_constants.h"

#include <algorithm>
#include <cstring>

#include "aligned_buffer.h"

namespace edgeperf::runtime::onednn {
namespace {

constexpr std::uint64_t kMul0 = 0x9E3779B97F4A7C15ull;
constexpr std::uint64_t kMul1 = 0xC2B2AE3D27D4EB4Full;

std::uint64_t mix(std::uint64_t value) {
  value ^= value >> 33;
  value *= 0xFF51AFD7ED558CCDull;
  value ^= value >> 33;
  value *= 0xC4CEB9FE1A85EC53ull;
  return value ^ (value >> 33);
}

}  // namespace

// Four lanes per hash so the multiplies overlap; each word goes through a different
// multiplier and rotation in each hash, so the two are independent.
void hash_bytes_128(const void* data, std::size_t bytes, std::uint64_t out[2]) {
  const auto* in = static_cast<const unsigned char*>(data);
  std::uint64_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8};
  const std::size_t words = bytes / 8;
  std::size_t i = 0;
  for (; i + 4 <= words; i += 4) {
    for (int lane = 0; lane < 4; ++lane) {
      std::uint64_t word = 0;
      std::memcpy(&word, in + (i + lane) * 8, 8);
      a[lane] = (a[lane] ^ word) * kMul0;
      b[lane] = ((b[lane] + word) * kMul1) ^ (b[lane] >> 29);
    }
  }
  std::uint64_t tail = 0;
  for (std::size_t byte = i * 8; byte < bytes; ++byte) tail = (tail << 8 | in[byte]) * kMul0 + byte;
  std::uint64_t h0 = mix(bytes ^ tail), h1 = mix(~bytes + tail);
  for (int lane = 0; lane < 4; ++lane) {
    h0 = mix(h0 ^ a[lane]);
    h1 = mix(h1 + b[lane] * kMul0);
  }
  out[0] = h0;
  out[1] = h1;
}

PackedConstant pack_constant(const dnnl::engine& engine, const dnnl::memory::desc& target,
                             const dnnl::memory::desc& source, const void* data) {
  std::shared_ptr<std::byte> buffer(aligned_array<std::byte>(target.get_size()).release(),
                                    AlignedFree{});
  dnnl::memory packed(target, engine, buffer.get());
  dnnl::memory user(source, engine, const_cast<void*>(data));  // read only
  dnnl::stream stream(engine);
  dnnl::reorder(user, packed).execute(stream, user, packed);
  stream.wait();
  return PackedConstant{packed, std::move(buffer), false};
}

PackedConstantCache::Content PackedConstantCache::content_of(const dnnl::memory::desc& source,
                                                             const void* data) {
  Content content{source, {}};
  hash_bytes_128(data, source.get_size(), content.hash);
  return content;
}

PackedConstantCache::Key PackedConstantCache::key_of(const dnnl::memory::desc& target,
                                                     const Content& content) {
  return Key{target, content.source, {content.hash[0], content.hash[1]}};
}

std::vector<PackedConstantCache::Entry>::const_iterator PackedConstantCache::find(
    const Key& key, std::shared_ptr<const void>& owner) const {
  for (auto entry = entries_.begin(); entry != entries_.end(); ++entry) {
    if (!(entry->key == key)) continue;
    owner = entry->owner.lock();
    if (owner) return entry;
  }
  return entries_.end();
}

bool PackedConstantCache::holds(const dnnl::memory::desc& target, const Content& content) const {
  std::shared_ptr<const void> owner;
  return find(key_of(target, content), owner) != entries_.end();
}

PackedConstant PackedConstantCache::pack(const dnnl::engine& engine,
                                         const dnnl::memory::desc& target,
                                         const dnnl::memory::desc& source, const void* data) {
  const Key key = key_of(target, content_of(source, data));
  std::shared_ptr<const void> owner;
  if (const auto entry = find(key, owner); entry != entries_.end()) {
    ++stats_.reused;
    return PackedConstant{dnnl::memory(target, engine, entry->data), std::move(owner), true};
  }
  drop_expired();
  PackedConstant packed = pack_constant(engine, target, source, data);
  ++stats_.packed;
  entries_.push_back(Entry{key, packed.owner, packed.memory.get_data_handle()});
  return packed;
}

void PackedConstantCache::drop_expired() {
  std::erase_if(entries_, [](const Entry& entry) { return entry.owner.expired(); });
}

}  // namespace edgeperf::runtime::onednn
