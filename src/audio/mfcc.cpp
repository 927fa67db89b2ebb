#include "edgeperf/audio/mfcc.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numbers>

#include "edgeperf/core/error.h"

namespace edgeperf::audio {
namespace {

double hz_to_mel(double hz) { return 1127.0 * std::log1p(hz / 700.0); }

}  // namespace

void validate(const MfccConfig& c) {
  EP_CHECK(c.sample_rate > 0, "mfcc: sample rate {} must be positive", c.sample_rate);
  EP_CHECK(c.window > 0 && c.stride > 0, "mfcc: window {} and stride {} must be positive", c.window,
           c.stride);
  EP_CHECK(c.fft_size >= c.window && std::has_single_bit(static_cast<unsigned>(c.fft_size)),
           "mfcc: FFT size {} must be a power of two >= the window {}", c.fft_size, c.window);
  EP_CHECK(c.mel_bins > 0 && c.coefficients > 0 && c.coefficients <= c.mel_bins,
           "mfcc: {} coefficients from {} mel bins", c.coefficients, c.mel_bins);
  EP_CHECK(0 <= c.lower_hz && c.lower_hz < c.upper_hz && c.upper_hz <= c.sample_rate / 2.0,
           "mfcc: mel range {}-{} Hz must lie within 0-{} Hz", c.lower_hz, c.upper_hz,
           c.sample_rate / 2.0);
}

int frame_count(std::size_t samples, const MfccConfig& config) {
  if (samples < static_cast<std::size_t>(config.window)) return 0;
  return static_cast<int>((samples - static_cast<std::size_t>(config.window)) /
                          static_cast<std::size_t>(config.stride)) +
         1;
}

void fft(std::vector<std::complex<double>>& data) {
  const std::size_t n = data.size();
  EP_CHECK(std::has_single_bit(n), "fft: size {} is not a power of two", n);
  for (std::size_t i = 1, j = 0; i < n; ++i) {  // bit-reversal permutation
    std::size_t bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) std::swap(data[i], data[j]);
  }
  for (std::size_t length = 2; length <= n; length <<= 1) {
    const double angle = -2.0 * std::numbers::pi / static_cast<double>(length);
    const std::complex<double> step(std::cos(angle), std::sin(angle));
    for (std::size_t start = 0; start < n; start += length) {
      std::complex<double> twiddle(1.0, 0.0);
      for (std::size_t k = 0; k < length / 2; ++k) {
        const std::complex<double> even = data[start + k];
        const std::complex<double> odd = data[start + k + length / 2] * twiddle;
        data[start + k] = even + odd;
        data[start + k + length / 2] = even - odd;
        twiddle *= step;
      }
    }
  }
}

std::vector<double> mel_weights(const MfccConfig& config) {
  validate(config);
  const int bins = config.fft_size / 2 + 1;
  const double lower = hz_to_mel(config.lower_hz), upper = hz_to_mel(config.upper_hz);
  const double spacing = (upper - lower) / (config.mel_bins + 1);
  std::vector<double> weights(static_cast<std::size_t>(config.mel_bins) * bins, 0.0);
  for (int bin = 1; bin < bins; ++bin) {  // the DC bin carries no weight
    const double mel = hz_to_mel(static_cast<double>(bin) * config.sample_rate / config.fft_size);
    for (int m = 0; m < config.mel_bins; ++m) {
      const double left = lower + m * spacing, centre = left + spacing, right = centre + spacing;
      const double rising = (mel - left) / (centre - left);
      const double falling = (right - mel) / (right - centre);
      weights[static_cast<std::size_t>(m) * bins + bin] = std::max(0.0, std::min(rising, falling));
    }
  }
  return weights;
}

std::vector<float> mfcc(const std::vector<float>& samples, const MfccConfig& config) {
  validate(config);
  const int frames = frame_count(samples.size(), config);
  const int bins = config.fft_size / 2 + 1;
  const std::vector<double> filters = mel_weights(config);
  std::vector<double> window(static_cast<std::size_t>(config.window));
  for (std::size_t n = 0; n < window.size(); ++n) {  // periodic Hann
    window[n] = 0.5 - 0.5 * std::cos(2 * std::numbers::pi * static_cast<double>(n) /
                                     static_cast<double>(config.window));
  }
  std::vector<double> cosines(static_cast<std::size_t>(config.coefficients) * config.mel_bins);
  for (int k = 0; k < config.coefficients; ++k) {
    for (int n = 0; n < config.mel_bins; ++n) {
      cosines[static_cast<std::size_t>(k) * config.mel_bins + n] =
          std::sqrt(2.0 / config.mel_bins) *
          std::cos(std::numbers::pi * k * (n + 0.5) / config.mel_bins);
    }
  }
  std::vector<float> out(static_cast<std::size_t>(frames) * config.coefficients);
  std::vector<std::complex<double>> spectrum(static_cast<std::size_t>(config.fft_size));
  std::vector<double> magnitude(static_cast<std::size_t>(bins)), log_mel(config.mel_bins);
  for (int f = 0; f < frames; ++f) {
    const float* frame = samples.data() + static_cast<std::size_t>(f) * config.stride;
    std::fill(spectrum.begin(), spectrum.end(), 0.0);
    for (std::size_t n = 0; n < window.size(); ++n) spectrum[n] = frame[n] * window[n];
    fft(spectrum);
    for (int b = 0; b < bins; ++b) magnitude[b] = std::abs(spectrum[static_cast<std::size_t>(b)]);
    for (int m = 0; m < config.mel_bins; ++m) {
      double energy = 0;
      for (int b = 0; b < bins; ++b)
        energy += filters[static_cast<std::size_t>(m) * bins + b] * magnitude[b];
      log_mel[static_cast<std::size_t>(m)] = std::log(energy + config.log_offset);
    }
    for (int k = 0; k < config.coefficients; ++k) {
      double c = 0;
      for (int n = 0; n < config.mel_bins; ++n)
        c += cosines[static_cast<std::size_t>(k) * config.mel_bins + n] * log_mel[n];
      out[static_cast<std::size_t>(f) * config.coefficients + k] = static_cast<float>(c);
    }
  }
  return out;
}

std::vector<float> fit_length(std::vector<float> samples, std::size_t count) {
  samples.resize(count, 0.0f);
  return samples;
}

}  // namespace edgeperf::audio
