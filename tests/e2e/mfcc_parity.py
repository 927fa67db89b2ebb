#!/usr/bin/env python3
"""`edgeperf run MODEL --input x=FILE.wav`: the C++ MFCC front end against numpy.

The reference (tools/kws_features.py, which the KWS training data uses too) is computed
from the definitions (numpy's rfft, a mel filterbank built from the HTK mel formula, an
explicit DCT-II matrix), not from the product's code: 30 ms
periodic-Hann frames every 20 ms, |FFT| over 512 points, 40 mel filters from 20 Hz to 4 kHz,
ln(x + 1e-6), the first 10 DCT-II coefficients scaled by sqrt(2/40). One second of audio,
cut or padded with silence, gives 49 x 10 features, fed to an Identity model whose output
is compared. Also: WAV encodings (PCM16, float32 stereo), sox-made audio when sox is
installed, and one-line errors for a wrong sample rate and a model input of another size.
"""
import argparse
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
from kws_features import RATE, mfcc as reference_mfcc  # noqa: E402


def write_wav(path, samples, rate=RATE, channels=1, encoding="pcm16"):
    samples = np.asarray(samples, dtype=np.float64)
    if encoding == "pcm16":
        data = np.clip(np.round(samples * 32767), -32768, 32767).astype("<i2").tobytes()
        fmt_code, bits = 1, 16
    else:
        data = samples.astype("<f4").tobytes()
        fmt_code, bits = 3, 32
    block = channels * bits // 8
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, fmt_code, channels, rate, rate * block, block, bits)
    body = b"WAVE" + fmt + struct.pack("<4sI", b"data", len(data)) + data
    Path(path).write_bytes(struct.pack("<4sI", b"RIFF", len(body)) + body)


def decoded(samples, encoding):
    """What the file holds, as the reader returns it."""
    if encoding == "pcm16":
        return np.clip(np.round(np.asarray(samples) * 32767), -32768, 32767) / 32768.0
    return np.asarray(samples, dtype=np.float32).astype(np.float64)


def identity_model(path, shape):
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "features",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--edgeperf", required=True)
    parser.add_argument("--work-dir", required=True)
    args = parser.parse_args()
    work = Path(args.work_dir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    model = work / "features.onnx"
    identity_model(model, [1, 1, 49, 10])
    rng = np.random.default_rng(5)
    t = np.arange(RATE) / RATE
    chirp = 0.4 * np.sin(2 * np.pi * (200 + 1800 * t) * t) + 0.05 * rng.standard_normal(RATE)
    cases = {
        "chirp_pcm16": (chirp, "pcm16"),
        "short_noise_pcm16": (0.3 * rng.standard_normal(int(0.7 * RATE)).clip(-1, 1), "pcm16"),
        "long_tone_float": (0.5 * np.sin(2 * np.pi * 440 * np.arange(int(1.3 * RATE)) / RATE), "float"),
    }
    failures = []
    worst = 0.0
    for name, (samples, encoding) in cases.items():
        wav = work / f"{name}.wav"
        write_wav(wav, samples, encoding=encoding)
        out = work / name
        subprocess.run([args.edgeperf, "run", model, "--input", f"x={wav}", "--output-dir", out],
                       check=True, capture_output=True, text=True)
        got = np.load(out / "y.npy").reshape(49, 10)
        want = reference_mfcc(decoded(samples, encoding))
        error = float(np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want))))
        worst = max(worst, error)
        ok = error < 1e-4
        print(f"{'ok  ' if ok else 'FAIL'} {name}: max relative difference {error:.2e}")
        if not ok:
            failures.append(name)

    stereo = np.stack([chirp, -chirp * 0.5], axis=1).reshape(-1)
    write_wav(work / "stereo.wav", stereo, channels=2, encoding="float")
    subprocess.run([args.edgeperf, "run", model, "--input", f"x={work / 'stereo.wav'}", "--output-dir",
                    work / "stereo"], check=True, capture_output=True)
    mono = (decoded(chirp, "float") - 0.5 * decoded(chirp, "float")) / 2
    error = float(np.max(np.abs(np.load(work / "stereo" / "y.npy").reshape(49, 10) - reference_mfcc(mono))))
    print(f"{'ok  ' if error < 1e-3 else 'FAIL'} stereo float32: channels averaged ({error:.2e})")
    if error >= 1e-3:
        failures.append("stereo")

    if shutil.which("sox"):
        sox_wav = work / "sox.wav"
        subprocess.run(["sox", "-n", "-r", "16000", "-b", "16", "-c", "1", sox_wav, "synth", "1",
                        "sine", "300-3000", "vol", "0.5"], check=True)
        raw = sox_wav.read_bytes()
        data = raw[raw.index(b"data") + 8:]
        samples = np.frombuffer(data[:len(data) // 2 * 2], dtype="<i2") / 32768.0
        subprocess.run([args.edgeperf, "run", model, "--input", f"x={sox_wav}", "--output-dir",
                        work / "sox"], check=True, capture_output=True)
        error = float(np.max(np.abs(np.load(work / "sox" / "y.npy").reshape(49, 10) - reference_mfcc(samples))
                             / np.maximum(1.0, np.abs(reference_mfcc(samples)))))
        print(f"{'ok  ' if error < 1e-4 else 'FAIL'} sox-made sweep: {error:.2e}")
        if error >= 1e-4:
            failures.append("sox")
    else:
        print("skip sox-made audio (sox not installed)")

    write_wav(work / "8k.wav", chirp[::2], rate=8000)
    other = work / "other.onnx"
    identity_model(other, [1, 40])
    for what, command, expect in [
            ("8 kHz audio", [model, "--input", f"x={work / '8k.wav'}"], "8000 Hz"),
            ("model input of another size", [other, "--input", f"x={work / 'chirp_pcm16.wav'}"], "490 MFCC"),
            ("not a WAV file", [model, "--input", f"x={model}.wav"], "cannot")]:
        if what == "not a WAV file":
            Path(f"{model}.wav").write_bytes(b"not audio at all")
            expect = "not a RIFF/WAVE file"
        done = subprocess.run([args.edgeperf, "run", *command], capture_output=True, text=True)
        lines = done.stderr.strip().splitlines()
        ok = done.returncode != 0 and len(lines) == 1 and expect in lines[0]
        print(f"{'ok  ' if ok else 'FAIL'} {what}: {lines[0] if lines else '(no message)'}")
        if not ok:
            failures.append(what)
    print(f"worst relative difference {worst:.2e}; {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
