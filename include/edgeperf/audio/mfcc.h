#pragma once
// The keyword-spotting front end: 16 kHz mono audio to MFCC features, as MLPerf Tiny's
// DS-CNN expects them (49 frames x 10 coefficients for one second). Written from the
// definitions:
//   frames     30 ms (480 samples) every 20 ms (320), periodic Hann window
//   spectrum   |FFT| over 512 points (the frame zero-padded), bins 0..256
//   mel        40 triangular filters evenly spaced on the HTK mel scale
//              (mel = 1127 ln(1 + f / 700)) from 20 Hz to 4 kHz, weights computed in mel
//              space at each bin's centre frequency; the DC bin has no weight
//   log        ln(mel energy + 1e-6)
//   DCT-II     c_k = sqrt(2 / 40) sum_n x_n cos(pi k (n + 1/2) / 40), k < 10
// This is the computation of TensorFlow's tf.signal stft / linear_to_mel_weight_matrix /
// mfccs_from_log_mel_spectrograms chain that MLPerf Tiny's KWS training uses.
#include <complex>
#include <cstddef>
#include <filesystem>
#include <vector>

namespace edgeperf::audio {

struct MfccConfig {
  int sample_rate = 16000;
  int window = 480;  // samples
  int stride = 320;
  int fft_size = 512;  // a power of two >= window
  int mel_bins = 40;
  double lower_hz = 20, upper_hz = 4000;
  int coefficients = 10;
  double log_offset = 1e-6;
};

// Throws Error naming the field when the configuration is inconsistent.
void validate(const MfccConfig& config);

// frames x coefficients, row-major; frames = (samples - window) / stride + 1 (0 when the
// audio is shorter than one window).
std::vector<float> mfcc(const std::vector<float>& samples, const MfccConfig& config = {});
int frame_count(std::size_t samples, const MfccConfig& config = {});

// The mel filterbank: mel_bins rows of fft_size / 2 + 1 weights.
std::vector<double> mel_weights(const MfccConfig& config);

// In-place radix-2 FFT (size a power of two); the scalar kernel the tests check against a
// direct DFT.
void fft(std::vector<std::complex<double>>& data);

struct Audio {
  int sample_rate = 0;
  std::vector<float> samples;  // mono, in [-1, 1]
};
// RIFF/WAVE with PCM 8/16/24/32-bit or IEEE float 32-bit samples; channels are averaged.
// Throws Error naming the file and the field at fault.
Audio read_wav(const std::filesystem::path& path);
// Exactly `count` samples: cut, or padded with silence at the end.
std::vector<float> fit_length(std::vector<float> samples, std::size_t count);

}  // namespace edgeperf::audio
