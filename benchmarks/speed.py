"""End-to-end fps of `restore` vs model-only fps, per model, resolution and dtype (run by hand).

Usage:  python benchmarks/speed.py --model pgdenet --size 1280x720 1920x1080 --dtype fp32 bf16 fp16 \
            [--frames 100] [--device cuda] [--tile N] [--clip N] [--compile] [--weights FILE] [--threads N]

For each size a synthetic x264 clip of ``--frames`` frames is made; for each dtype the model (random or
seeded weights unless ``--weights``: speed does not depend on them) is timed twice with the same tile and
clip sizes (chosen as `restore` chooses them, reported):
  - model-only: the engine's tiled forward on a clip already on the device, as many windows as the video
    needs, synchronised at the end (no decode, copies or encode);
  - end-to-end: ``restore_video`` (decode, upload, model, download, encode, on their threads), then once
    more with ``profile=True`` for the per-stage seconds (that run synchronises and is a bit slower).
Goal (issue 11): end-to-end >= 0.9 x model-only. Writes benchmarks/results/speed-<date>-<device>.md.
Needs only the repository, torch, av and numpy.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

# Run the repository's own code even where another copy of vrestore is installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(1, str(Path(__file__).resolve().parent))

from memory_vs_length import make_clip  # noqa: E402  (a sibling script)

from benchmarks._results import command, cpu_name, today, write_results  # noqa: E402
from vrestore.api import load_model, restore_video  # noqa: E402
from vrestore.engine.accel import accelerate  # noqa: E402
from vrestore.engine.run_plan import RunPlan, plan_run  # noqa: E402
from vrestore.engine.tiling import Tiler  # noqa: E402
from vrestore.models import build, get_spec, resolve_device, resolve_dtype  # noqa: E402
from vrestore.models.loaded import LoadedModel  # noqa: E402
from vrestore.options import ClipOptions, EncodeOptions, RestoreOptions, TileOptions  # noqa: E402


def make_model(args: argparse.Namespace, dtype: str) -> LoadedModel:
    if args.weights is not None:
        return load_model(args.model, weights=args.weights, device=args.device, dtype=dtype)
    spec = get_spec(args.model)
    device = resolve_device(args.device)
    return LoadedModel(spec, build(spec), device=device, dtype=resolve_dtype(dtype, spec, device),
                       extra=spec.resolve_extra())


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def model_only_fps(model: LoadedModel, frames: int, height: int, width: int, plan: RunPlan) -> float:
    """Frames per second of the tiled forward alone over the windows of a ``frames``-frame video."""
    settings = plan.clip
    windows = settings.plan(frames)
    tiler = Tiler(model, plan.tile)
    x = torch.rand(1, settings.length, 3, height, width, generator=torch.Generator().manual_seed(0))
    x = x.to(model.device)
    state = None
    out, state = tiler.run(x, state)  # warm-up: cudnn autotuning, compilation, allocator
    del out
    state = None
    synchronize(model.device)
    started = time.perf_counter()
    for window in windows:
        out, state = tiler.run(x[:, : window.length], state)
        del out
    synchronize(model.device)
    seconds = time.perf_counter() - started
    # Overlapping windows compute some frames twice; that work is part of model-only throughput too.
    return frames / seconds


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{cpu_name()} CPU, {torch.get_num_threads()} threads"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="tiny.test")
    parser.add_argument("--size", nargs="+", default=["640x360"])
    parser.add_argument("--dtype", nargs="+", default=["fp32"])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--tile", type=int, default=None)
    parser.add_argument("--clip", type=int, default=None)
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--weights", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--codec", default="libx264", help="output codec of the end-to-end run")
    parser.add_argument("--out", type=Path, default=None, help="result file (default: benchmarks/results/...)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.size:
            width, height = map(int, size.split("x"))
            source = Path(tmp) / f"clip-{size}.mp4"
            make_clip(source, args.frames, width, height)
            for dtype in args.dtype:
                model = make_model(args, dtype)
                if device.type == "cuda":
                    torch.cuda.reset_peak_memory_stats(device)
                plan = plan_run(model, RestoreOptions(tile=TileOptions(size=args.tile),
                                                      clip=ClipOptions(length=args.clip)), height, width)
                sizes = plan.sizes()
                accelerate(model, compile=args.compile)
                model_fps = model_only_fps(model, args.frames, height, width, plan)
                clip = ClipOptions(plan.clip.length, plan.clip.overlap, plan.clip.shift_last)
                options = RestoreOptions(model=args.model, device=args.device, dtype=dtype, tile=plan.tile,
                                         clip=clip, overwrite=True, encode=EncodeOptions(codec=args.codec))
                result = restore_video(source, Path(tmp) / "out.mp4", options, model=model)
                profiled = restore_video(source, Path(tmp) / "out.mp4", _with_profile(options), model=model)
                vram = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
                rows.append((size, dtype, sizes, model_fps, result.fps, profiled.profile, vram))
                print(f"{size} {dtype}: model-only {model_fps:.2f} fps, end-to-end {result.fps:.2f} fps "
                      f"({result.fps / model_fps:.2f} x), sizes {sizes}, profile {profiled.profile}",
                      flush=True)
                del model
    write_report(args, device, rows)
    return 0


def _with_profile(options: RestoreOptions) -> RestoreOptions:
    from dataclasses import replace

    return replace(options, profile=True)


def write_report(args: argparse.Namespace, device: torch.device, rows: list) -> None:
    date = today()
    lines = [
        f"# End-to-end vs model-only speed: {args.model} ({date})",
        "",
        f"- command: `{command(quote=True)}`",
        f"- device: {device_name(device)}; {os.cpu_count()} CPUs; torch {torch.__version__}, "
        f"python {platform.python_version()}",
        f"- input: synthetic x264 clip, {args.frames} frames; output {args.codec}; weights: "
        f"{args.weights or 'random/seeded (speed does not depend on them)'}; compile: {args.compile}",
        "- profile: seconds per stage of a second, profiled end-to-end run (stages overlap; CUDA synchronised "
        "at stage borders in that run only)",
        "",
        "| size | dtype | tile | clip | model-only fps | end-to-end fps | ratio | decode | upload | model | "
        "download | encode | idle | wall | peak VRAM MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, dtype, sizes, model_fps, e2e_fps, profile, vram in rows:
        stages = " | ".join(f"{profile[k]:.2f}" for k in ("decode", "upload", "model", "download", "encode", "idle",
                                                           "wall"))
        lines.append(f"| {size} | {dtype} | {sizes['tile']} | {sizes['clip']} | {model_fps:.2f} | {e2e_fps:.2f} | "
                     f"{e2e_fps / model_fps:.2f} | {stages} | {'-' if vram is None else f'{vram:.0f}'} |")
    lines += ["", f"Tile/clip choice: {rows[0][2]['how']} ({rows[0][2]['note'] or 'given'})." if rows else ""]
    write_results("\n".join(lines) + "\n", "speed", args.model, device.type, date=date, out=args.out)


if __name__ == "__main__":
    raise SystemExit(main())
