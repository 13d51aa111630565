"""Speed of `vrestore eval` against a per-frame scikit-image loop: same inputs, same run (run by hand).

Usage:  python benchmarks/eval_speed.py [--frames 100] [--size 1280x720] [--format png|ffv1] [--device cpu]
                                       [--repeat 1]

Writes a lossless reference and a noisy copy (PNG frame folders, the way the papers' test sets are
stored; or ffv1 videos, whose decoding costs about 3x more), then times, side by side and alternately:
  - vrestore eval in-process (``evaluate_pair``: decoding read ahead on threads, batched scoring),
  - the `vrestore eval` command in a subprocess (includes interpreter start-up and imports),
  - the baseline: the same reader, then scikit-image's PSNR and SSIM frame by frame,
  - decoding both inputs alone (the floor every method pays).
Checks that the per-frame values agree (PSNR < 1e-4 dB, SSIM < 1e-5) and writes
benchmarks/results/eval_speed-<date>-<format>-<device>.md (device, command, date, timings, ratio). Exit
code 1 when the values disagree.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import skimage
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from vrestore.io.reader import open_reader
from vrestore.metrics.video import EvalOptions, evaluate_pair

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for benchmarks._results
from benchmarks._results import cpu_model, today, write_results  # noqa: E402


def write_lossless(path: Path, images: list[np.ndarray]) -> None:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=Fraction(25))
        stream.width, stream.height, stream.pix_fmt = images[0].shape[1], images[0].shape[0], "bgr0"
        for image in images:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def write_pngs(folder: Path, images: list[np.ndarray]) -> None:
    folder.mkdir()
    for i, image in enumerate(images):
        cv2.imwrite(str(folder / f"{i:05d}.png"), image[..., ::-1])


def make_pair(folder: Path, frames: int, width: int, height: int, kind: str = "png") -> tuple[Path, Path]:
    """A moving textured pattern and a copy with Gaussian noise (sigma 8), both lossless."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width]
    texture = rng.integers(0, 48, (height, width, 1))
    clean, noisy = [], []
    for i in range(frames):
        base = np.stack([(xx + 3 * i) % 256, (yy + i) % 256, (xx // 2 + yy // 3 + 2 * i) % 256], -1)
        image = np.clip(base * 0.8 + texture, 0, 255).astype(np.uint8)
        clean.append(image)
        noisy.append(np.clip(image + rng.normal(0, 8, image.shape), 0, 255).astype(np.uint8))
    if kind == "png":
        write_pngs(folder / "ref", clean)
        write_pngs(folder / "out", noisy)
        return folder / "out", folder / "ref"
    write_lossless(folder / "ref.mkv", clean)
    write_lossless(folder / "out.mkv", noisy)
    return folder / "out.mkv", folder / "ref.mkv"


def skimage_loop(restored: Path, reference: Path) -> tuple[list[float], list[float]]:
    """The baseline: decode both with the same reader, then scikit-image PSNR and SSIM frame by frame."""
    psnrs, ssims = [], []
    with open_reader(restored) as a, open_reader(reference) as b:
        for x, y in zip(a, b, strict=True):
            psnrs.append(peak_signal_noise_ratio(y.image, x.image, data_range=255))
            ssims.append(structural_similarity(y.image, x.image, gaussian_weights=True, sigma=1.5,
                                               use_sample_covariance=False, data_range=255, channel_axis=2))
    return psnrs, ssims


def decode_only(restored: Path, reference: Path) -> int:
    """The floor every method pays: decoding both inputs (sequentially) with the same reader."""
    with open_reader(restored) as a, open_reader(reference) as b:
        return sum(1 for _ in zip(a, b, strict=True))


def run_cli(restored: Path, reference: Path, device: str) -> tuple[float, dict]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "vrestore", "eval", str(restored), str(reference), "--device", device, "--json"],
        capture_output=True, text=True, check=True,
    )
    return time.perf_counter() - started, json.loads(done.stdout)


def timed(function, *args):
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--format", choices=("png", "ffv1"), default="png", help="how the pair is stored")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; each times every method once")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    load_before = os.getloadavg()
    ours_s, cli_s, base_s, decode_s = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        restored, reference = make_pair(Path(tmp), args.frames, width, height, args.format)
        for _ in range(args.repeat):
            seconds, ours = timed(evaluate_pair, restored, reference, EvalOptions(device=args.device))
            ours_s.append(seconds)
            seconds, cli = run_cli(restored, reference, args.device)
            cli_s.append(seconds)
            seconds, (base_psnr, base_ssim) = timed(skimage_loop, restored, reference)
            base_s.append(seconds)
            decode_s.append(timed(decode_only, restored, reference)[0])
    load_after = os.getloadavg()
    cli_frames = cli["videos"][0]["per_frame"]
    psnr_gap = max(abs(a - b) for a, b in zip(ours.psnr, base_psnr, strict=True))
    ssim_gap = max(abs(a - b) for a, b in zip(ours.ssim, base_ssim, strict=True))
    cli_gap = max(abs(f["ssim"] - b) for f, b in zip(cli_frames, base_ssim, strict=True))
    ours_t, cli_t, base_t, decode_t = (statistics.median(v) for v in (ours_s, cli_s, base_s, decode_s))
    ratio, cli_ratio = base_t / ours_t, base_t / cli_t
    n = args.frames
    print(f"vrestore eval (in-process): {ours_t:.2f} s; `vrestore eval` command: {cli_t:.2f} s; "
          f"scikit-image loop: {base_t:.2f} s; speed-up x{ratio:.2f} (command x{cli_ratio:.2f})")
    print(f"largest difference: PSNR {psnr_gap:.2e} dB, SSIM {ssim_gap:.2e} (command SSIM {cli_gap:.2e})")
    date = today()
    command = (f"python benchmarks/eval_speed.py --frames {n} --size {args.size} --format {args.format} "
               f"--device {args.device} --repeat {args.repeat}")

    def cells(values: list[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    stored = "PNG frame folders" if args.format == "png" else "ffv1 bgr0 .mkv files"
    write_results("\n".join([
        f"# eval speed vs a per-frame scikit-image loop ({date})",
        "",
        f"- command: `{command}`",
        f"- device: {cpu_model()}, {os.cpu_count()} CPU cores, {platform.system()} {platform.machine()}; "
        f"scoring on `{args.device}`",
        f"- software: python {platform.python_version()}, torch {torch.__version__}, opencv {cv2.__version__}, "
        f"scikit-image {skimage.__version__}, numpy {np.__version__}",
        f"- load average (1 min) before/after: {load_before[0]:.2f} / {load_after[0]:.2f} "
        "(the machine is shared; the methods alternate so they see the same conditions)",
        f"- input: {n}-frame {args.size} lossless pair ({stored}), "
        "textured moving pattern vs a copy with Gaussian noise sigma 8",
        "- every method includes decoding both files with vrestore's reader; the baseline decodes "
        "sequentially, vrestore eval reads ahead on threads",
        "",
        "| method | seconds (per round) | median | frames/s |",
        "|---|---|---:|---:|",
        f"| vrestore eval, in-process (`evaluate_pair`) | {cells(ours_s)} | {ours_t:.2f} | {n / ours_t:.1f} |",
        f"| `vrestore eval` command (subprocess, incl. start-up) | {cells(cli_s)} | {cli_t:.2f} | {n / cli_t:.1f} |",
        f"| scikit-image per frame (PSNR + SSIM) | {cells(base_s)} | {base_t:.2f} | {n / base_t:.1f} |",
        f"| (decoding both inputs only, no metrics) | {cells(decode_s)} | {decode_t:.2f} | {n / decode_t:.1f} |",
        "",
        f"Speed-up: x{ratio:.2f} in-process, x{cli_ratio:.2f} for the command (acceptance: >= 3).",
        f"Largest per-frame difference from scikit-image: PSNR {psnr_gap:.1e} dB, SSIM {ssim_gap:.1e} "
        "(acceptance: < 1e-4 dB, < 1e-5).",
    ]) + "\n", "eval_speed", args.format, args.device.replace(":", ""), date=date)
    return 0 if psnr_gap < 1e-4 and max(ssim_gap, cli_gap) < 1e-5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
