#pragma once
// Page compression: none, Snappy, Zstandard.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "edgeperf/columnar/parquet.h"

namespace edgeperf::columnar::codec {

// CRC-32 with the gzip polynomial (zlib's crc32), as Parquet's PageHeader.crc uses.
std::uint32_t page_crc32(const void* data, std::size_t size);

std::int32_t thrift_codec(Compression compression);

// One per thread: holds the zstd context so pages reuse it.
class Compressor {
 public:
  Compressor(Compression compression, int zstd_level);
  ~Compressor();
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  // Appends the compressed form of [data, data+size) to `out`; returns its length.
  std::size_t append(const void* data, std::size_t size, std::string& out);

 private:
  struct ZstdContext;
  Compression compression_;
  int zstd_level_;
  std::unique_ptr<ZstdContext> zstd_;
};

// Decompresses a page body into exactly `dst_size` bytes; throws Error naming
// the codec when it is unsupported or the data does not decode to that size.
void decompress(std::int32_t codec, const std::uint8_t* src, std::size_t src_size,
                std::uint8_t* dst, std::size_t dst_size);

}  // namespace edgeperf::columnar::codec
