"""PGDENet: whole-clip vs windowed inference on a real clip, and CPU time per frame (run by hand).

Windowed inference is what ``vrestore restore`` does (48-frame windows overlapping by 12, starts on key
frames, blended); whole-clip inference runs all frames in one forward pass, as the official test harness.
Quality is measured against the pristine version of a real distorted clip (pairs/carphone, 176x144, 120
frames; the first ``--frames`` are used), and the two outputs are also compared directly.

Usage:  python benchmarks/pgdenet_windows.py [--model pgdenet.test] [--weights W] [--frames 100]
        [--time-model pgdenet.official] [--time-size 640x360] [--time-frames 6]
Writes benchmarks/results/pgdenet_windows-<date>-<model>.md (device, command, date, numbers).
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from vrestore.api import load_model
from vrestore.engine.runner import restore_frames
from vrestore.frame import Frame
from vrestore.io.reader import open_reader
from vrestore.models import build, get_spec
from vrestore.options import ClipOptions

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for benchmarks._results
from benchmarks._results import command, cpu_name, today, write_results  # noqa: E402

PAIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "pairs" / "carphone"


def read_frames(path: Path, count: int) -> list[np.ndarray]:
    with open_reader(path) as reader:
        return [frame.image for frame in itertools.islice(reader, count)]


def psnr(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """Mean per-frame RGB PSNR (8-bit)."""
    values = []
    for x, y in zip(a, b, strict=True):
        mse = np.mean((x.astype(np.float64) - y.astype(np.float64)) ** 2)
        values.append(99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse))
    return float(np.mean(values))


def whole_clip(model, images: list[np.ndarray]) -> tuple[list[np.ndarray], float]:
    """All frames in one window: the same padding and tiling as the windowed run, only the windows differ."""
    return windowed(model, images, len(images), 0)


def windowed(model, images: list[np.ndarray], length: int, overlap: int) -> tuple[list[np.ndarray], float]:
    frames = [Frame(image=img, pts=i, time_base=Fraction(1, 25), index=i) for i, img in enumerate(images)]
    start = time.perf_counter()
    out = [f.image for f in restore_frames(frames, model, clip=ClipOptions(length, overlap))]
    return out, time.perf_counter() - start


def time_per_frame(model_id: str, size: tuple[int, int], frames: int, threads: int) -> float:
    """Seconds per frame of one forward pass over ``frames`` random frames (random weights)."""
    from vrestore.models.loaded import LoadedModel

    spec = get_spec(model_id)
    model = LoadedModel(spec, build(spec), "cpu")
    w, h = size
    clip = torch.rand(1, frames, 3, h, w)
    start = time.perf_counter()
    model.run(clip)
    return (time.perf_counter() - start) / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="pgdenet.test")
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--window", type=int, default=48)
    parser.add_argument("--overlap", type=int, default=12)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--time-model", default="pgdenet.official")
    parser.add_argument("--time-size", default="640x360")
    parser.add_argument("--time-frames", type=int, default=6)
    parser.add_argument("--skip-time", action="store_true")
    args = parser.parse_args()

    model = load_model(args.model, weights=args.weights, device=args.device)
    pristine = read_frames(PAIR / "carphone_pristine.mp4", args.frames)
    distorted = read_frames(PAIR / "carphone_distorted.mp4", args.frames)
    whole, t_whole = whole_clip(model, distorted)
    wind, t_wind = windowed(model, distorted, args.window, args.overlap)
    rows = [
        ("input vs pristine PSNR (dB)", f"{psnr(distorted, pristine):.3f}"),
        ("whole-clip output vs pristine PSNR (dB)", f"{psnr(whole, pristine):.3f}"),
        ("windowed output vs pristine PSNR (dB)", f"{psnr(wind, pristine):.3f}"),
        ("whole minus windowed, absolute (dB)", f"{abs(psnr(whole, pristine) - psnr(wind, pristine)):.4f}"),
        ("windowed output vs whole-clip output PSNR (dB)", f"{psnr(wind, whole):.2f}"),
        ("time whole / windowed (s)", f"{t_whole:.1f} / {t_wind:.1f}"),
    ]
    if not args.skip_time:
        w, h = (int(v) for v in args.time_size.split("x"))
        per = time_per_frame(args.time_model, (w, h), args.time_frames, torch.get_num_threads())
        rows.append((f"CPU s/frame, {args.time_model} random weights, {w}x{h}, {args.time_frames}-frame clip",
                     f"{per:.2f}"))
    date = today()
    weights = str(args.weights) if args.weights else f"the registered weights of {args.model} (bundled or seeded)"
    lines = [
        f"# PGDENet whole-clip vs windowed inference, {date}",
        "",
        f"- device: {args.device}, {cpu_name()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        f"- command: `{command()}`",
        f"- clip: pairs/carphone (176x144), first {args.frames} frames; window {args.window}, overlap {args.overlap}",
        f"- model {args.model}, weights: {weights}",
        "",
        "| measure | value |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
    ]
    print("\n".join(lines))
    write_results("\n".join(lines), "pgdenet_windows", args.model, date=date)


if __name__ == "__main__":
    main()
