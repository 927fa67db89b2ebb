#include "edgeperf/audio/mfcc.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <numbers>
#include <random>

#include "edgeperf/core/error.h"

namespace edgeperf::audio {
namespace {

// The scalar oracle: a direct DFT.
TEST(Fft, MatchesTheDirectDft) {
  std::mt19937 random(3);
  std::normal_distribution<double> normal;
  for (std::size_t n : {1u, 2u, 8u, 512u}) {
    std::vector<std::complex<double>> data(n);
    for (auto& x : data) x = {normal(random), normal(random)};
    std::vector<std::complex<double>> want(n);
    for (std::size_t k = 0; k < n; ++k) {
      for (std::size_t t = 0; t < n; ++t) {
        const double angle =
            -2 * std::numbers::pi * static_cast<double>(k * t) / static_cast<double>(n);
        want[k] += data[t] * std::complex<double>(std::cos(angle), std::sin(angle));
      }
    }
    fft(data);
    for (std::size_t k = 0; k < n; ++k)
      ASSERT_LT(std::abs(data[k] - want[k]), 1e-9) << n << " " << k;
  }
  std::vector<std::complex<double>> odd(6);
  EXPECT_THROW(fft(odd), Error);
}

TEST(MelWeights, TrianglesOnTheMelScale) {
  const MfccConfig config;
  const std::vector<double> w = mel_weights(config);
  const int bins = config.fft_size / 2 + 1;
  ASSERT_EQ(w.size(), static_cast<std::size_t>(40 * bins));
  for (int m = 0; m < 40; ++m) {
    double peak = 0;
    for (int b = 0; b < bins; ++b) {
      const double v = w[static_cast<std::size_t>(m) * bins + b];
      EXPECT_GE(v, 0);
      EXPECT_LE(v, 1);
      peak = std::max(peak, v);
    }
    EXPECT_GT(peak, 0.2) << "filter " << m << " covers no bin";
  }
  for (int m = 0; m < 40; ++m) EXPECT_EQ(w[static_cast<std::size_t>(m) * bins], 0.0);  // DC
  // Nothing above 4 kHz: bin 4000 / 31.25 = 128 and beyond get no weight.
  for (int b = 129; b < bins; ++b) EXPECT_EQ(w[static_cast<std::size_t>(39) * bins + b], 0.0);
}

TEST(Mfcc, OneSecondIs49By10AndATonePeaksInItsBand) {
  std::vector<float> tone(16000);
  for (std::size_t i = 0; i < tone.size(); ++i)
    tone[i] = static_cast<float>(
        0.5 * std::sin(2 * std::numbers::pi * 1000.0 * static_cast<double>(i) / 16000));
  const std::vector<float> features = mfcc(tone);
  EXPECT_EQ(features.size(), 49u * 10u);
  EXPECT_EQ(frame_count(16000), 49);
  EXPECT_EQ(frame_count(479), 0);
  // A steady tone gives the same coefficients in every frame.
  for (int f = 1; f < 49; ++f) {
    for (int k = 0; k < 10; ++k) EXPECT_NEAR(features[f * 10 + k], features[k], 1e-3);
  }
  // Silence is the log offset everywhere: c0 = sqrt(2/40) * 40 * ln(1e-6), the rest 0.
  const std::vector<float> quiet = mfcc(std::vector<float>(16000, 0.0f));
  EXPECT_NEAR(quiet[0], std::sqrt(2.0 / 40) * 40 * std::log(1e-6), 1e-3);
  EXPECT_NEAR(quiet[5], 0, 1e-4);
  MfccConfig bad;
  bad.fft_size = 300;
  EXPECT_THROW(validate(bad), Error);
}

void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}
std::string le(std::uint32_t value, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}
std::string wav(std::uint16_t encoding, std::uint16_t channels, std::uint32_t rate,
                std::uint16_t bits, const std::string& data) {
  const std::uint16_t block = static_cast<std::uint16_t>(channels * bits / 8);
  const std::string fmt = "fmt " + le(16, 4) + le(encoding, 2) + le(channels, 2) + le(rate, 4) +
                          le(rate * block, 4) + le(block, 2) + le(bits, 2);
  const std::string list = "LIST" + le(3, 4) + "abc" + std::string(1, '\0');  // odd: padded
  const std::string body =
      "WAVE" + fmt + list + "data" + le(static_cast<std::uint32_t>(data.size()), 4) + data;
  return "RIFF" + le(static_cast<std::uint32_t>(body.size()), 4) + body;
}

TEST(Wav, ReadsPcmAndFloatAndAveragesChannels) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("edgeperf-wav-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write_bytes(dir / "pcm16.wav", wav(1, 1, 16000, 16, le(16384, 2) + le(0x8000, 2) + le(0, 2)));
  Audio a = read_wav(dir / "pcm16.wav");
  EXPECT_EQ(a.sample_rate, 16000);
  ASSERT_EQ(a.samples.size(), 3u);
  EXPECT_FLOAT_EQ(a.samples[0], 0.5f);
  EXPECT_FLOAT_EQ(a.samples[1], -1.0f);
  float half = 0.25f, one = 1.0f;
  std::string stereo(8, '\0');
  std::memcpy(stereo.data(), &half, 4);
  std::memcpy(stereo.data() + 4, &one, 4);
  write_bytes(dir / "float.wav", wav(3, 2, 8000, 32, stereo));
  a = read_wav(dir / "float.wav");
  EXPECT_EQ(a.sample_rate, 8000);
  ASSERT_EQ(a.samples.size(), 1u);
  EXPECT_FLOAT_EQ(a.samples[0], 0.625f);
  write_bytes(dir / "pcm24.wav", wav(1, 1, 16000, 24, std::string("\x00\x00\xc0", 3)));
  EXPECT_FLOAT_EQ(read_wav(dir / "pcm24.wav").samples[0], -0.5f);

  write_bytes(dir / "text.wav", "hello, not audio");
  write_bytes(dir / "alaw.wav", wav(6, 1, 16000, 8, "ab"));
  std::string no_data = wav(1, 1, 16000, 16, "");
  no_data.resize(no_data.size() - 8);
  write_bytes(dir / "nodata.wav", no_data);
  for (const char* file : {"text.wav", "alaw.wav", "nodata.wav", "missing.wav"}) {
    try {
      read_wav(dir / file);
      ADD_FAILURE() << file << " was read";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(file), std::string::npos) << error.what();
    }
  }
  EXPECT_EQ(fit_length({1, 2, 3}, 5), (std::vector<float>{1, 2, 3, 0, 0}));
  EXPECT_EQ(fit_length({1, 2, 3}, 2), (std::vector<float>{1, 2}));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace edgeperf::audio
