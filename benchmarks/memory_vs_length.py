"""Peak memory of `vrestore restore` for a short and a ten-times longer video (run by hand).

Memory must not grow with the video's length: the engine keeps one window plus bounded queues.
Usage:  python benchmarks/memory_vs_length.py [--frames 100 1000] [--size 640x360] [--model tiny.test]
            [--device cuda] [--weights FILE] [--dtype bf16]
Measures the peak RSS of the process, and on CUDA the peak VRAM (``torch.cuda.max_memory_allocated``, as
reported by ``restore --profile --json``). Writes benchmarks/results/memory_vs_length-<date>.md.
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
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for benchmarks._results
from benchmarks._results import cpu_name, today, write_results  # noqa: E402


def make_clip(path: Path, frames: int, width: int, height: int) -> None:
    """A noisy moving-gradient clip encoded with x264 (fast preset)."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(25, 1), options={"preset": "ultrafast", "crf": "18"})
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        yy, xx = np.mgrid[0:height, 0:width]
        base = np.stack([xx % 256, yy % 256, (xx + yy) % 256], -1).astype(np.int16)
        for i in range(frames):
            noisy = np.clip(np.roll(base, i, axis=1) + rng.integers(-12, 13, base.shape), 0, 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(noisy, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def measure_rss(command: list[str]) -> tuple[float, float, int, str]:
    """Run ``command``; return (peak RSS MiB, median sampled RSS MiB, exit code, stdout) of that process.

    The peak comes from the kernel (``ru_maxrss``); the median of the samples (every 0.2 s) of the second
    half of the run shows the steady state, less sensitive to one momentary allocation than the peak.
    """
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    samples: list[float] = []
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        rss = _current_rss_mib(proc.pid)
        if rss:
            samples.append(rss)
        time.sleep(0.2)
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(proc.stderr.read().decode())
    steady = samples[len(samples) // 2 :] or [0.0]  # the second half: past start-up and model loading
    # ru_maxrss is KiB on Linux; stdout is one JSON line, small enough not to fill the pipe while running.
    return usage.ru_maxrss / 1024, statistics.median(steady), code, proc.stdout.read().decode()


def _current_rss_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, nargs=2, default=[100, 1000])
    parser.add_argument("--size", default="640x360")
    parser.add_argument("--model", default="tiny.test")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--dtype", default="fp32")
    parser.add_argument("--out", type=Path, default=None, help="result file (default: results/memory_vs_length-...)")
    parser.add_argument("--weights", default=None, help="checkpoint for models without registered weights")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for frames in args.frames:
            clip = Path(tmp) / f"clip{frames}.mp4"
            make_clip(clip, frames, width, height)
            command = [sys.executable, "-m", "vrestore", "restore", str(clip), str(Path(tmp) / f"out{frames}.mp4"),
                       "--model", args.model, "--device", args.device, "--dtype", args.dtype, "--json", "--profile"]
            if args.weights:
                command += ["--weights", args.weights]
            peak, median, code, stdout = measure_rss(command)
            if code != 0:
                return code
            result = json.loads(stdout.strip().splitlines()[-1])
            vram = result["profile"].get("peak_vram_mib")
            rows.append((frames, peak, median, vram, result["sizes"]))
            print(f"{frames:5d} frames: peak RSS {peak:8.1f} MiB, median {median:8.1f} MiB, peak VRAM {vram} MiB")
    growth = (rows[1][1] - rows[0][1]) / rows[0][1] * 100
    median_growth = (rows[1][2] - rows[0][2]) / rows[0][2] * 100
    vram_growth = None
    if rows[0][3]:
        vram_growth = (rows[1][3] - rows[0][3]) / rows[0][3] * 100
    print(f"growth from {rows[0][0]} to {rows[1][0]} frames: peak {growth:+.1f} %, median {median_growth:+.1f} %"
          + (f", VRAM {vram_growth:+.1f} %" if vram_growth is not None else ""))
    date = today()
    lines = [
        f"# Peak memory vs video length ({date})",
        "",
        f"- command: `python benchmarks/memory_vs_length.py --frames {args.frames[0]} {args.frames[1]} "
        f"--size {args.size} --model {args.model} --device {args.device} --dtype {args.dtype}"
        f"{' --weights ' + args.weights if args.weights else ''}`",
        f"- device: {cpu_name()}, {os.cpu_count()} CPUs, {platform.system()}; "
        f"python {platform.python_version()}",
        f"- measured: peak resident set size of the `vrestore restore --profile --json` process (x264 {args.size} "
        "input); peak VRAM as reported by the run (CUDA only); tile/clip as chosen by the run: "
        f"{rows[0][4]}",
        "",
        "| frames | peak RSS (MiB) | steady-state median RSS (MiB) | peak VRAM (MiB) |",
        "|---:|---:|---:|---:|",
        *[f"| {f} | {p:.1f} | {m:.1f} | {'-' if v is None else f'{v:.1f}'} |" for f, p, m, v, _ in rows],
        "",
        f"Growth of the peak: {growth:+.1f} % (acceptance: below 10 %); of the median: {median_growth:+.1f} %"
        + (f"; of the peak VRAM: {vram_growth:+.1f} %." if vram_growth is not None else "."),
        "About 550 MiB of the total is the imported libraries (torch, PyAV, OpenCV) before any frame.",
    ]
    write_results("\n".join(lines) + "\n", "memory_vs_length", args.model, args.device, date=date, out=args.out)
    return 0 if abs(growth) < 10 and (vram_growth is None or abs(vram_growth) < 10) else 1


if __name__ == "__main__":
    raise SystemExit(main())
