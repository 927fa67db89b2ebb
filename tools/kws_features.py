"""MLPerf Tiny's keyword-spotting MFCC, from the definitions, in numpy: 30 ms periodic-Hann
frames every 20 ms, |FFT| over 512 points, 40 HTK-mel triangular filters from 20 Hz to
4 kHz (no weight on the DC bin), ln(x + 1e-6), the first 10 DCT-II coefficients scaled by
sqrt(2/40). One second at 16 kHz (cut or padded with silence) gives 49 x 10.
The product's C++ front end (src/audio) is checked against this (tests/e2e/mfcc_parity.py).
"""
import numpy as np

RATE, WINDOW, STRIDE, FFT, MELS, COEFFS = 16000, 480, 320, 512, 40, 10


def _filterbank():
    mel = lambda f: 1127.0 * np.log(1.0 + f / 700.0)
    edges = np.linspace(mel(20.0), mel(4000.0), MELS + 2)
    bin_mel = mel(np.arange(FFT // 2 + 1) * RATE / FFT)
    weights = np.zeros((FFT // 2 + 1, MELS))
    for m in range(MELS):
        left, centre, right = edges[m], edges[m + 1], edges[m + 2]
        weights[:, m] = np.maximum(0, np.minimum((bin_mel - left) / (centre - left),
                                                 (right - bin_mel) / (right - centre)))
    weights[0, :] = 0
    return weights


_WEIGHTS = _filterbank()
_HANN = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(WINDOW) / WINDOW)
_DCT = np.sqrt(2.0 / MELS) * np.cos(np.pi * np.outer(np.arange(COEFFS), np.arange(MELS) + 0.5) / MELS)
FRAMES = 1 + (RATE - WINDOW) // STRIDE


def mfcc(samples):
    """[49, 10] float64 features of mono samples in [-1, 1] at 16 kHz."""
    x = np.zeros(RATE)
    n = min(len(samples), RATE)
    x[:n] = samples[:n]
    index = np.arange(FRAMES)[:, None] * STRIDE + np.arange(WINDOW)[None, :]
    spectrum = np.abs(np.fft.rfft(x[index] * _HANN, FFT, axis=1))
    return np.log(spectrum @ _WEIGHTS + 1e-6) @ _DCT.T
