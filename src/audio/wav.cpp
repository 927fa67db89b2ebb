// RIFF/WAVE reader, from the format's layout: "RIFF" size "WAVE", then chunks (id, size,
// payload padded to even length); "fmt " gives the encoding, "data" the samples.
#include <cstdint>
#include <cstring>
#include <optional>

#include "edgeperf/audio/mfcc.h"
#include "edgeperf/core/error.h"
#include "edgeperf/core/file_io.h"

namespace edgeperf::audio {
namespace {

constexpr std::uint16_t kPcm = 1, kFloat = 3, kExtensible = 0xFFFE;

std::uint32_t u32(const std::string& bytes, std::size_t at) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<std::uint8_t>(bytes[at + i]);
  return value;
}
std::uint16_t u16(const std::string& bytes, std::size_t at) {
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(bytes[at]) |
                                    (static_cast<std::uint8_t>(bytes[at + 1]) << 8));
}

struct Format {
  std::uint16_t encoding = 0, channels = 0, bits = 0;
  std::uint32_t rate = 0;
};

// One sample as a float in [-1, 1].
float sample_at(const std::string& bytes, std::size_t at, const Format& format) {
  switch (format.encoding == kFloat ? 0 : format.bits) {
    case 0: {
      float value = 0;
      std::memcpy(&value, bytes.data() + at, 4);
      return value;
    }
    case 8:
      return (static_cast<std::uint8_t>(bytes[at]) - 128) / 128.0f;
    case 16:
      return static_cast<std::int16_t>(u16(bytes, at)) / 32768.0f;
    case 24: {
      const auto raw = static_cast<std::int32_t>(u32(bytes, at - 1) & 0xFFFFFF00u);
      return static_cast<float>(raw / 2147483648.0);  // the 24 bits at the top of an int32
    }
    default:
      return static_cast<float>(static_cast<std::int32_t>(u32(bytes, at)) / 2147483648.0);
  }
}

}  // namespace

Audio read_wav(const std::filesystem::path& path) {
  const std::string bytes = read_file(path);
  const std::string name = path.string();
  EP_CHECK(
      bytes.size() >= 12 && bytes.compare(0, 4, "RIFF") == 0 && bytes.compare(8, 4, "WAVE") == 0,
      "{}: not a RIFF/WAVE file", name);
  std::optional<Format> format;
  std::size_t data_at = 0, data_size = 0;
  for (std::size_t at = 12; at + 8 <= bytes.size();) {
    const std::string id = bytes.substr(at, 4);
    const std::size_t size = u32(bytes, at + 4);
    EP_CHECK(size <= bytes.size() - at - 8 || id == "data", "{}: chunk '{}' runs past the end",
             name, id);
    if (id == "fmt ") {
      EP_CHECK(size >= 16, "{}: 'fmt ' chunk of {} bytes is too short", name, size);
      Format f{u16(bytes, at + 8), u16(bytes, at + 10), u16(bytes, at + 22), u32(bytes, at + 12)};
      if (f.encoding == kExtensible && size >= 26) f.encoding = u16(bytes, at + 32);
      format = f;
    } else if (id == "data") {
      data_at = at + 8;
      data_size = std::min(size, bytes.size() - data_at);  // a truncated file keeps what it has
      break;
    }
    at += 8 + size + (size & 1);
  }
  EP_CHECK(format.has_value(), "{}: no 'fmt ' chunk", name);
  EP_CHECK(data_at != 0, "{}: no 'data' chunk", name);
  const Format& f = *format;
  const bool pcm =
      f.encoding == kPcm && (f.bits == 8 || f.bits == 16 || f.bits == 24 || f.bits == 32);
  EP_CHECK(pcm || (f.encoding == kFloat && f.bits == 32),
           "{}: encoding {} with {} bits per sample is not supported (PCM 8/16/24/32-bit or "
           "float 32-bit)",
           name, f.encoding, f.bits);
  EP_CHECK(f.channels >= 1 && f.channels <= 32, "{}: {} channels", name, f.channels);
  EP_CHECK(f.rate > 0 && f.rate <= 768000, "{}: sample rate {} Hz", name, f.rate);
  const std::size_t sample_bytes = f.bits / 8, frame_bytes = sample_bytes * f.channels;
  Audio audio;
  audio.sample_rate = static_cast<int>(f.rate);
  audio.samples.resize(data_size / frame_bytes);
  for (std::size_t i = 0; i < audio.samples.size(); ++i) {
    float sum = 0;
    for (std::size_t c = 0; c < f.channels; ++c) {
      sum += sample_at(bytes, data_at + i * frame_bytes + c * sample_bytes, f);
    }
    audio.samples[i] = sum / static_cast<float>(f.channels);
  }
  return audio;
}

}  // namespace edgeperf::audio
