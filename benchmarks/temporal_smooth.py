"""Effect of --temporal-smooth on flicker and PSNR of a per-frame restorer, on real clips (run by hand).

Usage:  python -m benchmarks.temporal_smooth [--data ../shared/data/test/davis] [--clips blackswan car-roundabout]
        [--frames 24] [--sigma 15] [--strengths 0 0.3 0.5 0.7]

Each clip's first --frames frames (halved in size for speed) get fresh Gaussian noise (sigma on the 0-255
scale) per frame and are denoised frame by frame with OpenCV non-local means (h = 10), a per-frame image
restorer whose outputs flicker like an image model's; each clip also runs as a static shot (its first
frame held, noise fresh per frame). Those outputs go through ``smooth_frames`` (the code
behind --temporal-smooth) at each strength. Scores against the clean frames: RGB PSNR (8-bit) and the
temporal error, mean |(o_t - o_t-1) - (g_t - g_t-1)| on the 0-255 scale (0 = the output changes exactly as
the clean video does; flicker raises it, as does lag on motion). Writes benchmarks/results/temporal_smooth.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import torch

from vrestore.engine.smooth import smooth_frames
from vrestore.frame import Frame
from vrestore.io.frames import find_frame_files, read_image
from vrestore.metrics.psnr import psnr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for benchmarks._results
from benchmarks._results import write_results  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "test" / "davis"


def load_clip(folder: Path, count: int) -> list[np.ndarray]:
    files = find_frame_files(folder)[:count]
    return [cv2.resize(read_image(f), None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA) for f in files]


def scores(outputs: list[np.ndarray], clean: list[np.ndarray]) -> tuple[float, float]:
    """Mean PSNR and mean temporal error of ``outputs`` against ``clean``."""
    o = np.stack(outputs).astype(np.float32)
    g = np.stack(clean).astype(np.float32)
    mean_psnr = psnr(torch.from_numpy(o).permute(0, 3, 1, 2), torch.from_numpy(g).permute(0, 3, 1, 2), 255.0)
    mean_psnr = float(mean_psnr.mean())
    return mean_psnr, float(np.abs(np.diff(o, axis=0) - np.diff(g, axis=0)).mean())


def evaluate(
    name: str, clean: list[np.ndarray], sigma: float, strengths: list[float], rng: np.random.Generator
) -> list[tuple[str, str, float, float]]:
    """Rows (clip, output, PSNR, temporal error) for the noisy input and each smoothing strength."""
    noisy = [np.clip(c + rng.normal(0, sigma, c.shape), 0, 255).astype(np.uint8) for c in clean]
    restored = [cv2.fastNlMeansDenoisingColored(n, None, 10, 10, 7, 21) for n in noisy]
    rows = [(name, "noisy input", *scores(noisy, clean))]
    for strength in strengths:
        frames = [Frame(r, pts=i, time_base=Fraction(1, 24), index=i) for i, r in enumerate(restored)]
        out = [f.image for f in smooth_frames(frames, strength)]
        rows.append((name, f"NLM + smooth {strength:g}", *scores(out, clean)))
        print(f"{name:28s} strength {strength:<4g} PSNR {rows[-1][2]:6.2f}  temporal error {rows[-1][3]:5.2f}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--clips", nargs="+", default=["blackswan", "car-roundabout"])
    parser.add_argument("--frames", type=int, default=24)
    parser.add_argument("--sigma", type=float, default=15.0)
    parser.add_argument("--strengths", type=float, nargs="+", default=[0.0, 0.3, 0.5, 0.7])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    for clip in args.clips:
        frames = load_clip(args.data / clip, args.frames)
        # The real (moving) frames, and a static shot: the first frame held, noise still fresh per frame.
        for name, clean in ((clip, frames), (f"{clip} (static)", [frames[0]] * len(frames))):
            rows.extend(evaluate(name, clean, args.sigma, args.strengths, rng))
    lines = [
        "# --temporal-smooth on a per-frame restorer",
        "",
        f"Command: `python -m benchmarks.temporal_smooth --frames {args.frames} --sigma {args.sigma:g} "
        f"--clips {' '.join(args.clips)}` ({platform.machine()}, CPU). DAVIS test clips at half size, "
        f"Gaussian noise sigma {args.sigma:g} per frame, OpenCV NLM (h 10) per frame, then smoothing.",
        "",
        "| clip | output | PSNR (dB) | temporal error (0-255) |",
        "|---|---|---|---|",
        *(f"| {c} | {label} | {p:.2f} | {t:.2f} |" for c, label, p, t in rows),
        "",
    ]
    write_results("\n".join(lines), "temporal_smooth", dated=False)


if __name__ == "__main__":
    main()
