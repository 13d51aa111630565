"""Host memory per pixel-frame of a CPU window: the figure a model declares as ``cpu_window_bytes`` (run by hand).

Usage:  python benchmarks/cpu_window_memory.py MODEL CLIP [--weights FILE] [--short 48] [--long 144]

Restores ``CLIP`` on the CPU twice, with ``--clip SHORT`` and ``--clip LONG`` windows, each in a fresh process,
and reads each process's peak resident memory. The clip should have at least ``LONG`` frames, so that the
longer run holds one full long window. The difference over the extra frames of a window is the memory per
frame; divided by the frame's pixels, the figure ``engine.autosize.cpu_clip`` multiplies by the window length
and the frame size. Writes benchmarks/results/cpu_window_memory-<date>.md.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._results import command, cpu_model, today, write_results  # noqa: E402
from vrestore.io.probe import probe  # noqa: E402


def peak_rss_bytes(args: list[str]) -> int:
    """Peak resident bytes of ``vrestore restore ARGS`` (Linux: ru_maxrss is in KiB; the runs grow in turn)."""
    done = subprocess.run([sys.executable, "-m", "vrestore", "restore", *args, "--device", "cpu", "-y", "--quiet"],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"vrestore restore failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("clip", type=Path)
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--short", type=int, default=48)
    parser.add_argument("--long", type=int, default=144)
    args = parser.parse_args()
    info = probe(args.clip)
    width, height = info.width, info.height
    extra = ["--model", args.model] + (["--weights", str(args.weights)] if args.weights else [])
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for length in (args.short, args.long):  # shorter first: RUSAGE_CHILDREN keeps the largest child's peak
            out = Path(tmp) / f"out{length}.mkv"
            peaks[length] = peak_rss_bytes([str(args.clip), str(out), *extra, "--clip", str(length)])
    per_frame = (peaks[args.long] - peaks[args.short]) / (args.long - args.short)
    per_pixel = per_frame / (width * height)
    text = "\n".join([
        f"# CPU window memory, {today()}", "",
        f"- command: `{command()}`",
        f"- CPU: {cpu_model('unknown CPU')}; clip {args.clip.name} ({width}x{height})", "",
        "| --clip | peak RSS (MiB) |", "|---:|---:|",
        *(f"| {length} | {peak / 2**20:.0f} |" for length, peak in peaks.items()), "",
        f"- {per_frame / 2**20:.1f} MiB per frame of a window = **{per_pixel:.0f} bytes per pixel-frame** "
        f"({args.model})", "",
    ])
    print(text)
    write_results(text, f"cpu_window_memory-{args.model}")


if __name__ == "__main__":
    main()
