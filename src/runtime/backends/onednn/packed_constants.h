#pragma once
// Packed constants shared by every plan of a session. A session plans once per input
// shape; the weights a primitive wants in its own layout do not depend on the shape
// (only the layout may), so a new shape reuses the packed copies earlier plans made
// instead of packing, and holding, its own. Entries are keyed by the target layout and
// the source's layout and bytes (a 128-bit hash), so a folded constant computed again
// by a later plan (BatchNorm folded into conv weights) finds its earlier copy too.
// The cache holds its entries weakly: a packed buffer lives as long as a kernel uses it.
#include <cstddef>
#include <cstdint>
#include <dnnl.hpp>
#include <memory>
#include <vector>

namespace edgeperf::runtime::onednn {

// A packed buffer and the oneDNN memory viewing it; `owner` keeps the bytes alive.
struct PackedConstant {
  dnnl::memory memory;
  std::shared_ptr<const void> owner;
  bool reused = false;  // made by an earlier plan
};

struct PackedConstantStats {
  std::size_t packed = 0;  // packs done
  std::size_t reused = 0;  // packs answered from an earlier plan's copy
};

class PackedConstantCache {
 public:
  // `data` laid out as `source`, in layout `target`: an earlier copy when a live one
  // exists, else packed now (and remembered).
  PackedConstant pack(const dnnl::engine& engine, const dnnl::memory::desc& target,
                      const dnnl::memory::desc& source, const void* data);
  // A constant's layout and the hash of its bytes, computed once for asking about
  // several target layouts.
  struct Content {
    dnnl::memory::desc source;
    std::uint64_t hash[2];
  };
  static Content content_of(const dnnl::memory::desc& source, const void* data);
  // A live copy of the constant in layout `target` exists: pack would answer from it.
  bool holds(const dnnl::memory::desc& target, const Content& content) const;
  const PackedConstantStats& stats() const { return stats_; }

 private:
  struct Key {
    dnnl::memory::desc target, source;
    std::uint64_t hash[2];
    bool operator==(const Key& other) const {
      return hash[0] == other.hash[0] && hash[1] == other.hash[1] && target == other.target &&
             source == other.source;
    }
  };
  struct Entry {
    Key key;
    std::weak_ptr<const void> owner;
    void* data = nullptr;
  };
  static Key key_of(const dnnl::memory::desc& target, const Content& content);
  // The live entry for `key`, and its owner held; end() when there is none.
  std::vector<Entry>::const_iterator find(const Key& key, std::shared_ptr<const void>& owner) const;
  void drop_expired();

  std::vector<Entry> entries_;
  PackedConstantStats stats_;
};

// Two independent 64-bit hashes of `bytes` (the cache key's content part).
void hash_bytes_128(const void* data, std::size_t bytes, std::uint64_t out[2]);

// Copies `data` (laid out as `source`) into a new buffer laid out as `target`.
PackedConstant pack_constant(const dnnl::engine& engine, const dnnl::memory::desc& target,
                             const dnnl::memory::desc& source, const void* data);

}  // namespace edgeperf::runtime::onednn
