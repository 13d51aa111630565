"""Throughput of `vrestore synth --protocol tud` at 854x480 and the PSNR of TUD outputs vs clean (run by hand).

Usage:  python benchmarks/synth_speed.py [--data ../shared/data/test/davis] [--interval 12] [--seeds 3]
Runs synthesize() on each DAVIS-test sequence (854x480 JPEG frames) into a PNG folder and into a lossless
ffv1 .mkv, times it (decode + degrade + encode, frames per second), times each operator alone on an
854x480 frame, computes per-frame PSNR (RGB, 8-bit, BasicSR convention) of the TUD-T<interval> outputs
against the clean frames over several seeds, and writes benchmarks/results/synth_speed-<date>.md.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from vrestore.degrade import ops
from vrestore.degrade.pipeline import read_sidecar
from vrestore.synth_api import SynthOptions, synthesize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for benchmarks._results
from benchmarks._results import today, write_results  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "test" / "davis"


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 images (inf when equal)."""
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)


def read_folder(folder: Path) -> list[np.ndarray]:
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg"))
    return [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in files]


def op_timings(repeats: int = 5) -> dict[str, float]:
    """Milliseconds per 854x480 frame for each operator (parameters drawn from the TUD ranges)."""
    x = torch.rand(3, 480, 854, generator=torch.Generator().manual_seed(0))
    rng = np.random.default_rng(0)
    out = {}
    for name in ops.OPS:
        clip = x if not ops.OPS[name].clip else torch.stack([x] * 12)
        start = time.perf_counter()
        for _ in range(repeats):
            ops.apply_op(name, clip, ops.draw_params(name, rng, (480, 854)))
        per = (time.perf_counter() - start) / repeats / (clip.shape[0] if clip.ndim == 4 else 1)
        out[name] = per * 1000
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--interval", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    sequences = sorted(p for p in args.data.iterdir() if p.is_dir())
    speed_rows, psnrs, by_count = [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(args.seeds):
            for seq in sequences:
                clean = read_folder(seq)
                for kind in (("png", "mkv") if seed == 0 else ("png",)):
                    out = Path(tmp) / f"{seq.name}-{seed}" if kind == "png" else Path(tmp) / f"{seq.name}-{seed}.mkv"
                    options = SynthOptions(protocol="tud", interval=args.interval, seed=seed)
                    start = time.perf_counter()
                    result = synthesize(seq, out, options)
                    seconds = time.perf_counter() - start
                    if seed == 0:
                        speed_rows.append((seq.name, kind, result.frames, seconds))
                    if kind == "png":
                        side = read_sidecar(result.sidecar)
                        for frame, degraded, entry in zip(clean, read_folder(out), side["frames"], strict=True):
                            value = psnr(degraded, frame)
                            psnrs.append(value)
                            by_count.setdefault(len(entry["ops"]), []).append(value)
    timings = op_timings()
    finite = np.array([p for p in psnrs if math.isfinite(p)])
    lines = [
        f"# synth speed and TUD-T{args.interval} PSNR ({today()})",
        "",
        f"- command: `python benchmarks/synth_speed.py --interval {args.interval} --seeds {args.seeds}`",
        f"- device: {platform.machine()}, {os.cpu_count()} CPUs, {platform.system()}; "
        f"python {platform.python_version()}, torch {torch.__version__} ({torch.get_num_threads()} threads)",
        f"- input: DAVIS-test sequences {', '.join(s.name for s in sequences)} (854x480 JPEG, 30 frames each), "
        "from ../shared/data/test/davis",
        "- timing covers decode + TUD degradation + encode (PNG folder, or ffv1 .mkv) + sidecar, one process",
        "",
        "| sequence | output | frames | seconds | fps |",
        "|---|---|---:|---:|---:|",
    ]
    lines += [f"| {n} | {k} | {f} | {s:.2f} | {f / s:.2f} |" for n, k, f, s in speed_rows]
    total_f = sum(r[2] for r in speed_rows)
    total_s = sum(r[3] for r in speed_rows)
    lines += [f"| all | both | {total_f} | {total_s:.2f} | {total_f / total_s:.2f} |", "",
              "Milliseconds per 854x480 frame for each operator alone (TUD ranges; `compress` per frame of a "
              "12-frame chunk):", "", "| op | ms/frame |", "|---|---:|"]
    lines += [f"| {name} | {ms:.1f} |" for name, ms in timings.items()]
    q = np.percentile(finite, [5, 25, 50, 75, 95])
    lines += [
        "",
        f"PSNR (RGB, dB) of TUD-T{args.interval} outputs vs clean, {len(psnrs)} frames "
        f"({len(sequences)} sequences x {args.seeds} seeds); {len(psnrs) - len(finite)} frames with no "
        "degradation (empty pipeline, PSNR inf) left out:",
        "",
        "| mean | 5 % | 25 % | median | 75 % | 95 % | min | max |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {finite.mean():.2f} | {q[0]:.2f} | {q[1]:.2f} | {q[2]:.2f} | {q[3]:.2f} | {q[4]:.2f} | "
        f"{finite.min():.2f} | {finite.max():.2f} |",
        "",
        "Mean PSNR by number of degradations applied to the frame:",
        "",
        "| ops | frames | mean PSNR |",
        "|---:|---:|---:|",
    ]
    for count in sorted(by_count):
        vals = [v for v in by_count[count] if math.isfinite(v)]
        mean = f"{np.mean(vals):.2f}" if vals else "inf"
        lines.append(f"| {count} | {len(by_count[count])} | {mean} |")
    print("\n".join(lines))
    write_results("\n".join(lines) + "\n", "synth_speed")


if __name__ == "__main__":
    main()
