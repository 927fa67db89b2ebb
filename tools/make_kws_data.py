#!/usr/bin/python3
"""Makes keyword-spotting data locally: one-second 16 kHz utterances of the ten Speech
Commands keywords, "unknown" words and "silence", synthesized by Debian's espeak-ng and
shaped by sox, as MFCC features (tools/kws_features.py: MLPerf Tiny's 49 x 10).

Speakers are espeak-ng voices: an English accent and a voice variant (m1, f3, croak, ...).
Train and held-out sets are split by speaker: no voice is in both. Each utterance varies
the rate (words per minute), pitch and amplitude, starts at a random offset in the second
(sox pad/trim), and has noise mixed in (sox synth white/pink/brown at a random level).
Deterministic under --seed.

Writes to --out (atomically, each file via a temporary name):
  train_inputs.npy  float32 [N, 1, 49, 10]     train_labels.npy  int64 [N]
  eval_inputs.npy   float32 [M, 1, 49, 10]     eval_labels.npy   int64 [M]
  manifest.json     classes, speakers per split, counts, parameters
  usage: tools/make_kws_data.py --out DIR [--seed 0] [--per-speaker 2] [--wav-dir DIR]
"""
import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from atomic_file import save_atomic  # noqa: E402
from kws_features import RATE, mfcc  # noqa: E402

KEYWORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
CLASSES = ["silence", "unknown"] + KEYWORDS  # MLPerf Tiny's 12 labels, in its order
UNKNOWN_WORDS = ["bed", "bird", "cat", "dog", "eight", "five", "four", "happy", "house",
                 "marvin", "nine", "one", "seven", "sheila", "six", "three", "tree", "two",
                 "wow", "zero", "learn", "follow", "forward", "visual", "backward"]
ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd",
           "en-029"]
VARIANTS = ["m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5", "croak",
            "klatt", "klatt2", "klatt3", "whisper", "Andy", "Annie", "Gene", "Lee", "Michael",
            "belinda", "edward", "iven", "john", "linda", "max", "paul", "robert"]
EVAL_FRACTION = 0.18  # 37 speakers: the 444-utterance eval fixture stays under 1 MB


def run(command):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def read_pcm16(path):
    raw = Path(path).read_bytes()
    at = raw.index(b"data") + 8
    return np.frombuffer(raw[at:at + (len(raw) - at) // 2 * 2], dtype="<i2") / 32768.0


def utterance(word, voice, rng, tmp):
    """One second of `word` (None: silence) spoken by `voice`, as float samples."""
    speech, shaped = tmp / "speech.wav", tmp / "shaped.wav"
    noise = rng.choice(["whitenoise", "pinknoise", "brownnoise"])
    noise_level = rng.uniform(0.002, 0.03)
    # sox -R: repeatable (seeded) noise; a random stretch of a longer noise varies it.
    noise_start = f"{rng.uniform(0, 8):.3f}"
    noise_input = (f"|sox -R -n -r {RATE} -c 1 -b 16 -p synth 10 {noise} vol {noise_level:.4f} "
                   f"trim {noise_start} 1")
    if word is None:
        run(["sox", "-R", "-n", "-r", str(RATE), "-c", "1", "-b", "16", str(shaped), "synth", "10",
             noise, "vol", f"{noise_level * rng.uniform(1, 4):.4f}", "trim", noise_start, "1"])
        return read_pcm16(shaped)
    run(["espeak-ng", "-v", voice, "-s", str(rng.randint(110, 210)), "-p", str(rng.randint(15, 85)),
         "-a", str(rng.randint(60, 180)), "-w", str(speech), word])
    # Resampled to 16 kHz, started at a random offset, cut to one second, noise mixed in.
    run(["sox", "-R", "-m", "-v", "1", "|sox -R " + str(speech) + f" -r {RATE} -c 1 -b 16 -p pad "
         f"{rng.uniform(0.0, 0.3):.3f} 0 trim 0 1 pad 0 1 trim 0 1", "-v", "1", noise_input,
         "-b", "16", str(shaped), "trim", "0", "1"])
    return read_pcm16(shaped)


def save_array(path, array):
    save_atomic(path, lambda tmp: np.save(tmp, array))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--per-speaker", type=int, default=2, help="utterances per class and speaker")
    parser.add_argument("--wav-dir", type=Path, help="also keep the audio as .wav files here")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(args.seed)
    speakers = [f"{accent}+{variant}" for accent in ACCENTS for variant in VARIANTS]
    rng.shuffle(speakers)
    held_out = sorted(speakers[:int(len(speakers) * EVAL_FRACTION)])
    training = sorted(speakers[int(len(speakers) * EVAL_FRACTION):])
    manifest = {"classes": CLASSES, "seed": args.seed, "sample_rate": RATE, "features": "tools/kws_features.py",
                "speakers": {"train": training, "eval": held_out}}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for split, voices, per_speaker in (("train", training, args.per_speaker), ("eval", held_out, 1)):
            inputs, labels = [], []
            for voice in voices:
                for label, name in enumerate(CLASSES):
                    for _ in range(per_speaker):
                        word = None if name == "silence" else (
                            rng.choice(UNKNOWN_WORDS) if name == "unknown" else name)
                        samples = utterance(word, voice, rng, tmp)
                        if args.wav_dir:
                            args.wav_dir.mkdir(parents=True, exist_ok=True)
                            target = args.wav_dir / f"{split}_{len(labels):05d}_{name}.wav"
                            (tmp / "shaped.wav").replace(target)
                        inputs.append(mfcc(samples).astype(np.float32)[None])
                        labels.append(label)
            save_array(args.out / f"{split}_inputs.npy", np.stack(inputs))
            save_array(args.out / f"{split}_labels.npy", np.array(labels, dtype=np.int64))
            manifest[f"{split}_count"] = len(labels)
            print(f"{split}: {len(labels)} utterances from {len(voices)} speakers", flush=True)
    text = json.dumps(manifest, indent=1) + "\n"
    save_atomic(args.out / "manifest.json", lambda tmp: Path(tmp).write_text(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
