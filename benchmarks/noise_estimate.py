"""Accuracy of the noise-level estimator behind --sigma auto and vrestore analyze (run by hand).

Usage:  python -m benchmarks.noise_estimate [--data ../shared/data/test/davis] [--frames 30]
        [--sigmas 0 5 10 20 30 50] [--interval 12] [--seed 1] [--date 2026-12-05]

1. Every DAVIS test clip, full size, its first --frames frames each with fresh Gaussian noise of each sigma (per
   RGB sample, rounded and clipped to uint8): the per-frame estimates (mean, range, worst error) and the
   per-window value --sigma auto uses (median of 3 frames of each 16-frame window), against the bound of
   issue 22 (15 % or 1.5 levels, whichever is larger).
2. The same clips degraded by ``vrestore synth --protocol tud --interval 12 --seed 1`` (PNG frames, exact):
   each frame's estimate beside the noise the sidecar records (gaussian / speckle sigma, Poisson alpha) and
   the effective level those give on that frame: the root of the mean noise variance over the frame
   (speckle's is sigma times the pixel value, Poisson's sqrt(value / 10**alpha), both on the clean frame).
Writes benchmarks/results/noise_estimate-<date>.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vrestore.io.frames import find_frame_files, read_image
from vrestore.metrics.noise import estimate_noise, estimate_noise_frames
from vrestore.synth_api import SynthOptions, synthesize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for benchmarks._results
from benchmarks._results import cpu_name, today, write_results  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "test" / "davis"
WINDOW = 16  # rvrt.denoise-davis's clip length


def allowed(sigma: float) -> float:
    return max(0.15 * sigma, 1.5)


def noisy(image: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    if sigma == 0:
        return image
    return np.clip(np.round(image + rng.normal(0.0, sigma, image.shape)), 0, 255).astype(np.uint8)


def gaussian_rows(clips: dict[str, list[np.ndarray]], sigmas: list[float]) -> list[str]:
    rows = []
    rng = np.random.default_rng(0)
    for name, frames in clips.items():
        for sigma in sigmas:
            images = [noisy(f, sigma, rng) for f in frames]
            per_frame = np.array([estimate_noise(i) for i in images])
            windows = np.array([estimate_noise_frames(images[s:s + WINDOW]) for s in range(0, len(images), WINDOW)])
            worst = max(np.abs(per_frame - sigma).max(), np.abs(windows - sigma).max())
            ok = "yes" if worst <= allowed(sigma) else "**no**"
            rows.append(f"| {name} | {sigma:g} | {per_frame.mean():.2f} | {per_frame.min():.2f}-{per_frame.max():.2f} "
                        f"| {', '.join(f'{w:.2f}' for w in windows)} | {worst:.2f} | {allowed(sigma):.2f} | {ok} |")
            print(rows[-1])
    return rows


def effective_level(clean: np.ndarray, ops: list[dict]) -> float:
    """Root mean noise variance (0-255) that the frame's noise ops add to ``clean``."""
    x = clean.astype(np.float64) / 255.0
    variance = np.zeros_like(x)
    for op in ops:
        if op["op"] == "gaussian":
            variance += (op["sigma"] / 255.0) ** 2
        elif op["op"] == "speckle":
            variance += (x * op["sigma"] / 255.0) ** 2
        elif op["op"] == "poisson":
            variance += x / 10.0 ** op["alpha"]
    return float(np.sqrt(variance.mean()) * 255.0)


def describe(ops: list[dict]) -> tuple[str, str]:
    """(the noise ops, the other ops) of a frame, short."""
    noise, other = [], []
    for op in ops:
        if op["op"] in ("gaussian", "speckle"):
            noise.append(f"{op['op']} {op['sigma']:.1f}")
        elif op["op"] == "poisson":
            noise.append(f"poisson a={op['alpha']:.2f}")
        elif op["op"] == "jpeg":
            other.append(f"jpeg q{op['quality']}")
        elif op["op"] == "video":
            other.append(f"{op['codec']} {op['bit_rate'] // 1000} kb/s")
        else:
            other.append(op["op"] + (f" {op['direction']}" if op["op"] == "resize" else ""))
    return ", ".join(noise) or "none", ", ".join(other) or "-"


def tud_rows(data: Path, names: list[str], count: int, interval: int, seed: int) -> list[str]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            out = Path(tmp) / name
            synthesize(data / name, out, SynthOptions(protocol="tud", interval=interval, seed=seed))
            record = json.loads(Path(f"{out}.synth.json").read_text())["frames"]
            clean = [read_image(f) for f in find_frame_files(data / name)[:count]]
            degraded = [read_image(f) for f in find_frame_files(out)[:count]]
            for frame, c, d in zip(record, clean, degraded, strict=False):
                noise, other = describe(frame["ops"])
                truth = effective_level(c, frame["ops"])
                estimate = estimate_noise(d)
                rows.append(f"| {name} | {frame['index']} | {noise} | {other} | {truth:.2f} | {estimate:.2f} |")
                print(rows[-1])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--sigmas", type=float, nargs="+", default=[0, 5, 10, 20, 30, 50])
    parser.add_argument("--interval", type=int, default=12)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--date", default=today())
    args = parser.parse_args()
    names = sorted(p.name for p in args.data.iterdir() if p.is_dir())
    clips = {n: [read_image(f) for f in find_frame_files(args.data / n)[: args.frames]] for n in names}
    started = time.perf_counter()
    gaussian = gaussian_rows(clips, args.sigmas)
    per_frame_s = (time.perf_counter() - started) / (len(gaussian) * args.frames)
    tud = tud_rows(args.data, names, args.frames, args.interval, args.seed)
    command = (f"python -m benchmarks.noise_estimate --frames {args.frames} --sigmas "
               f"{' '.join(f'{s:g}' for s in args.sigmas)} --interval {args.interval} --seed {args.seed}")
    size = next(iter(clips.values()))[0].shape
    lines = [
        "# Noise level estimation (--sigma auto, vrestore analyze)",
        "",
        f"Date {args.date}. Command: `{command}`. Device: {platform.machine()} CPU ({os.cpu_count()} cores, "
        f"{cpu_name('unknown')}), numpy/OpenCV; {per_frame_s * 1000:.0f} ms per {size[1]}x{size[0]} "
        "frame (the estimate, also the time of the Gaussian part divided by its frames). Estimator: "
        "`vrestore/metrics/noise.py` (Chen et al. 2015 patch PCA on weakly textured luma patches, Liu et al. 2013).",
        "",
        "## DAVIS test clips with added Gaussian noise",
        "",
        "Per-frame estimates and the per-window value of --sigma auto (median of 3 frames per 16-frame window). "
        "Bound: 15 % or 1.5 levels, whichever is larger (issue 22).",
        "",
        "| clip | sigma | mean estimate | per-frame range | per window | worst error | bound | within |",
        "|---|---|---|---|---|---|---|---|",
        *gaussian,
        "",
        f"## TUD-degraded copies (`vrestore synth --protocol tud --interval {args.interval} --seed {args.seed}`, "
        "PNG frames)",
        "",
        "True level: the root of the mean noise variance that the sidecar's noise ops add to that frame (speckle "
        "and Poisson noise depend on the pixel values; computed on the clean frame). Blur, resizing and "
        "compression in the same frame change the picture, not the noise level they are listed beside; where the "
        "noise comes first in the chain the coding removes part of it.",
        "",
        "| clip | frame | noise (sidecar) | other degradations | true level | estimate |",
        "|---|---|---|---|---|---|",
        *tud,
        "",
    ]
    write_results("\n".join(lines), "noise_estimate", date=args.date)


if __name__ == "__main__":
    main()
