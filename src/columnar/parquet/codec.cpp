#include "codec.h"

#include <snappy.h>
#include <zlib.h>
#include <zstd.h>

#include <cstring>

#include "edgeperf/core/error.h"
#include "format.h"

namespace edgeperf::columnar::codec {

std::uint32_t page_crc32(const void* data, std::size_t size) {
  uLong crc = crc32_z(0L, Z_NULL, 0);
  crc = crc32_z(crc, static_cast<const Bytef*>(data), size);
  return static_cast<std::uint32_t>(crc);
}

struct Compressor::ZstdContext {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ~ZstdContext() { ZSTD_freeCCtx(cctx); }
};

std::int32_t thrift_codec(Compression compression) {
  switch (compression) {
    case Compression::none:
      return format::codec::uncompressed;
    case Compression::snappy:
      return format::codec::snappy;
    case Compression::zstd:
      return format::codec::zstd;
  }
  fail("unknown compression {}", static_cast<int>(compression));
}

Compressor::Compressor(Compression compression, int zstd_level)
    : compression_(compression), zstd_level_(zstd_level) {
  if (compression_ == Compression::zstd) {
    zstd_ = std::make_unique<ZstdContext>();
    EP_CHECK(zstd_->cctx != nullptr, "zstd: cannot create a compression context");
  }
}

Compressor::~Compressor() = default;

std::size_t Compressor::append(const void* data, std::size_t size, std::string& out) {
  const std::size_t start = out.size();
  switch (compression_) {
    case Compression::none:
      out.append(static_cast<const char*>(data), size);
      break;
    case Compression::snappy: {
      out.resize(start + snappy::MaxCompressedLength(size));
      std::size_t written = 0;
      snappy::RawCompress(static_cast<const char*>(data), size, out.data() + start, &written);
      out.resize(start + written);
      break;
    }
    case Compression::zstd: {
      out.resize(start + ZSTD_compressBound(size));
      const std::size_t written = ZSTD_compressCCtx(zstd_->cctx, out.data() + start,
                                                    out.size() - start, data, size, zstd_level_);
      EP_CHECK(!ZSTD_isError(written), "zstd: {}", ZSTD_getErrorName(written));
      out.resize(start + written);
      break;
    }
  }
  return out.size() - start;
}

void decompress(std::int32_t codec, const std::uint8_t* src, std::size_t src_size,
                std::uint8_t* dst, std::size_t dst_size) {
  switch (codec) {
    case format::codec::uncompressed:
      EP_CHECK(src_size == dst_size, "uncompressed page is {} bytes but its header says {}",
               src_size, dst_size);
      if (dst_size != 0) std::memcpy(dst, src, dst_size);
      return;
    case format::codec::snappy: {
      std::size_t length = 0;
      const char* in = reinterpret_cast<const char*>(src);
      EP_CHECK(snappy::GetUncompressedLength(in, src_size, &length) && length == dst_size,
               "SNAPPY page does not decompress to the {} bytes its header says", dst_size);
      EP_CHECK(snappy::RawUncompress(in, src_size, reinterpret_cast<char*>(dst)),
               "SNAPPY page data is corrupt");
      return;
    }
    case format::codec::zstd: {
      const std::size_t written = ZSTD_decompress(dst, dst_size, src, src_size);
      EP_CHECK(!ZSTD_isError(written), "ZSTD page data is corrupt: {}", ZSTD_getErrorName(written));
      EP_CHECK(written == dst_size, "ZSTD page decompresses to {} bytes, its header says {}",
               written, dst_size);
      return;
    }
    default:
      fail("compression codec {} is not supported (edgeperf reads UNCOMPRESSED, SNAPPY, ZSTD)",
           format::codec_name(codec));
  }
}

}  // namespace edgeperf::columnar::codec
