"""CPU speed of PGDENet: the official network beside ours, and vrestore end to end (run by hand).

Usage:  python benchmarks/cpu_speed.py [--official PATH_TO_PGDENET_CHECKOUT] [--clip CLIP.mp4]
        [--frames 6] [--e2e-frames 24]

With ``--official`` (a checkout of github.com/ycity16/PGDENet; nothing is fetched and no official code is
kept here) the official network is imported with mmcv's deformable convolution replaced by torchvision's
(scripts/make_pgdenet_golden.py; needs ``einops``), filled with the same seeded full-size weights as ours,
and run on the same real frames. Sections, all on this machine in one run:

1. Model only, ``--frames`` frames of the clip at its size: the official network (fp32), ``pgdenet.official``
   in fp32 (max difference to the official output) and with ``--dtype auto``.
2. End to end, ``vrestore restore`` of the first ``--e2e-frames`` frames with ``pgdenet.official`` (the seeded
   weights through ``--weights``, ``--dtype auto``), as a ratio to the official network's model-only fps on the
   same frames (a bidirectional recurrent network runs slower per frame on a longer clip) and on ``--frames``.
3. The default model (``pgdenet.tud``, bundled weights): model-only fps on one window of the length the
   engine uses on the CPU, and ``vrestore restore`` of the whole clip end to end (``--dtype auto``).
4. bf16 against fp32 with the bundled weights: PSNR against the clean frames of the clip (noise sigma 15).

Writes benchmarks/results/cpu_speed-<date>.md with the CPU, flags, torch version, command and date.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._frames import clip_of  # noqa: E402
from benchmarks._results import command, cpu_flags, cpu_model, today, write_results  # noqa: E402
from scripts.make_pgdenet_golden import MODE_CONFIG, load_official  # noqa: E402
from vrestore.engine.autosize import choose_sizes  # noqa: E402
from vrestore.engine.host_memory import keep_freed_memory  # noqa: E402
from vrestore.engine.precision import add_noise, precision_gap  # noqa: E402
from vrestore.frame import Frame  # noqa: E402
from vrestore.io.reader import open_reader  # noqa: E402
from vrestore.models import get_spec  # noqa: E402
from vrestore.models.loaded import LoadedModel, cpu_has_fast_bf16, dtype_name, resolve_dtype  # noqa: E402
from vrestore.models.pgdenet.network import PGDENet  # noqa: E402
from vrestore.models.seeded import fill_seeded  # noqa: E402
from vrestore.options import ClipOptions, TileOptions  # noqa: E402

SEED = 11
CLIP = ROOT.parent / "shared" / "data" / "clips" / "airplane-360p-audio.mp4"


def read_frames(path: Path, count: int | None) -> list[Frame]:
    frames = []
    with open_reader(path) as reader:
        for frame in reader:
            frames.append(frame)
            if count is not None and len(frames) == count:
                break
    return frames


def as_clip(frames: list[Frame]) -> torch.Tensor:
    """Decoded frames as a (1,T,3,H,W) batch in [0, 1]."""
    return clip_of(f.image for f in frames)[None]


def timed(run, warm) -> tuple[float, torch.Tensor]:
    """Seconds of ``run()`` after one ``warm()`` call, and its output."""
    with torch.inference_mode():
        warm()
        started = time.perf_counter()
        out = run()
    return time.perf_counter() - started, out


def cut_clip(source: Path, frames: int, target: Path) -> Path:
    """The first ``frames`` frames of ``source`` as a near-lossless H.264 file (video only)."""
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream = inp.streams.video[0]
        video = out.add_stream("libx264", rate=stream.average_rate or 25)
        video.width, video.height, video.pix_fmt = stream.width, stream.height, "yuv420p"
        video.options = {"crf": "12"}
        for i, frame in enumerate(inp.decode(stream)):
            if i == frames:
                break
            picture = frame.reformat(format="yuv420p")
            picture.pts = i  # in the encoder's time base, 1/rate
            out.mux(video.encode(picture))
        out.mux(video.encode())
    return target


def restore_cli(*args: str) -> dict:
    """``vrestore restore ARGS --json --profile -y`` in a subprocess; its JSON result."""
    done = subprocess.run([sys.executable, "-m", "vrestore", "restore", *args, "--json", "--profile", "-y"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"vrestore restore failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--official", type=Path, help="checkout of github.com/ycity16/PGDENet")
    parser.add_argument("--clip", type=Path, default=CLIP)
    parser.add_argument("--frames", type=int, default=6)
    parser.add_argument("--e2e-frames", type=int, default=24)
    args = parser.parse_args()
    keep_freed_memory()  # as vrestore restore does; the official network gets the same allocator
    cpu = torch.device("cpu")
    lines: list[str] = []
    frames = read_frames(args.clip, args.frames)
    clip = as_clip(frames)
    h, w = clip.shape[-2:]

    # 1. model only
    spec = get_spec("pgdenet.official")
    ours_module = fill_seeded(PGDENet(), SEED).eval()
    state = {k: v.clone() for k, v in ours_module.state_dict().items()}
    rows = []
    official_fps = official_long_fps = None
    official_out = None
    if args.official:
        official = load_official(args.official).PGENet(
            mid_channels=96, num_blocks=7, prompt_size=96, prompt_dim=96, keyframe_interval=6,
            mode_config=MODE_CONFIG).eval()
        official.load_state_dict(state)
        seconds, official_out = timed(lambda: official(clip), lambda: official(clip[:, :2]))
        official_fps = args.frames / seconds
        rows.append(("official network (its code; torchvision DCN)", "fp32", official_fps, 1.0, "-"))
        # The same frames as the end-to-end run below: a recurrent network's speed per frame depends on the length.
        long_clip = as_clip(read_frames(args.clip, args.e2e_frames))
        seconds, _ = timed(lambda: official(long_clip), lambda: None)
        official_long_fps = args.e2e_frames / seconds
        del official, long_clip
    for name in ("fp32", "auto"):
        dtype = resolve_dtype(name, spec, cpu)
        model = LoadedModel(spec, fill_seeded(PGDENet(), SEED), dtype=dtype)
        seconds, (out, _) = timed(lambda m=model: m.run(clip), lambda m=model: m.run(clip[:, :2]))
        diff = f"{(out - official_out).abs().max().item():.2e}" if official_out is not None else "-"
        fps = args.frames / seconds
        rows.append((f"vrestore pgdenet.official --dtype {name}", dtype_name(dtype), fps,
                     fps / official_fps if official_fps else float("nan"), diff))
        del model
    lines += [f"## 1. Model only: PGDENet as published (39.85 M parameters), {args.frames} frames {w}x{h}", "",
              "| network | dtype | fps | vs official | max abs diff to official |", "|---|---|---|---|---|"]
    lines += [f"| {r[0]} | {r[1]} | {r[2]:.3f} | {r[3]:.2f}x | {r[4]} |" for r in rows]

    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "pgdenet-official-seeded.pth"
        torch.save({"params": state}, weights)
        short = cut_clip(args.clip, args.e2e_frames, Path(tmp) / "short.mp4")
        # 2. end to end, official size
        e2e = restore_cli(str(short), str(Path(tmp) / "official.mp4"), "--model", "pgdenet.official",
                          "--weights", str(weights), "--device", "cpu")
        ratio = e2e["fps"] / official_fps if official_fps else float("nan")
        same = e2e["fps"] / official_long_fps if official_long_fps else float("nan")
        lines += ["", f"## 2. End to end: vrestore restore --model pgdenet.official --weights SEEDED "
                  f"({args.e2e_frames} frames {w}x{h}, --dtype auto)", "",
                  f"- dtype {e2e.get('dtype')}, sizes {e2e['sizes']}",
                  f"- official network, model only, on the same {args.e2e_frames} frames: "
                  + (f"{official_long_fps:.3f} fps" if official_long_fps else "-"),
                  f"- {e2e['fps']:.3f} fps end to end = **{same:.2f}x** the official network's model-only fps on the "
                  f"same {args.e2e_frames} frames ({ratio:.2f}x its fps on {args.frames} frames)",
                  f"- stages (s): {e2e['profile']}"]

        # 3. the default model
        tud = get_spec("pgdenet.tud")
        length, model_fps = default_model_only(args.clip, h, w)
        full = restore_cli(str(args.clip), str(Path(tmp) / "tud.mp4"))
        lines += ["", f"## 3. The default model ({tud.id}, bundled weights, --dtype auto = "
                  f"{dtype_name(resolve_dtype('auto', tud, cpu))}), {w}x{h}", "",
                  f"- model only, one {length}-frame window: {model_fps:.3f} fps",
                  f"- end to end, `vrestore restore {args.clip.name}` ({full['frames']} frames): {full['fps']:.3f} fps"
                  f" = **{full['fps'] / model_fps:.2f}** of model-only",
                  f"- sizes {full['sizes']}", f"- stages (s): {full['profile']}"]

    # 4. bf16 vs fp32 quality with trained weights
    from vrestore.api import load_model

    clean = read_frames(args.clip, 24)
    gap = precision_gap(lambda d: load_model("pgdenet.tud", device="cpu", dtype=d), clean, add_noise(clean, 15),
                        "bf16")
    lines += ["", "## 4. bf16 vs fp32, pgdenet.tud bundled weights, 24 frames of the clip + Gaussian noise 15", "",
              f"- PSNR vs clean: fp32 {gap.psnr_fp32:.3f} dB, bf16 {gap.psnr_low:.3f} dB, "
              f"gap **{gap.gap_db:.3f} dB** (auto uses bf16 only within 0.05 dB); bf16 vs fp32 output "
              f"{gap.psnr_between:.2f} dB"]

    flags = cpu_flags()
    header = [f"# CPU speed, {today()}", "",
              f"- command: `{command()}`",
              f"- CPU: {cpu_model('unknown CPU')} ({torch.get_num_threads()} torch threads), flags {', '.join(flags)}, "
              f"fast bf16: {cpu_has_fast_bf16()}",
              f"- torch {torch.__version__}, Python {platform.python_version()}, clip {args.clip.name}", ""]
    text = "\n".join(header + lines) + "\n"
    print(text)
    write_results(text, "cpu_speed")


def default_model_only(clip: Path, height: int, width: int) -> tuple[int, float]:
    """(window length, fps) of one forward pass of the default model over the window the CPU engine uses."""
    from vrestore.api import load_model

    loaded = load_model("pgdenet.tud", device="cpu")
    length = choose_sizes(loaded, height, width, TileOptions(), ClipOptions()).clip.length
    window = as_clip(read_frames(clip, length))
    seconds, _ = timed(lambda: loaded.run(window), lambda: loaded.run(window[:, :6]))
    return length, window.shape[1] / seconds




if __name__ == "__main__":
    main()
