"""Speed and peak memory of DynStaticNet on one 10-frame clip (run by hand, meant for a GPU).

Usage:  python benchmarks/dynstaticnet_speed.py [--device cuda] [--dim 48] [--sizes 256x256,480x864]
                                               [--repeat 3] [--dtype fp32]

Random weights (speed does not depend on them). Times the model alone, as the engine calls it on one whole
(padded) frame per clip, after one warm-up run; checks that two runs give the same output (the seeded
decoder query) and writes benchmarks/results/dynstaticnet_speed-<date>-<device>.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

from vrestore.models.dynstaticnet.net import DynStaticNet

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for benchmarks._results
from benchmarks._results import cpu_name, today, write_results  # noqa: E402

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(net: DynStaticNet, size: tuple[int, int], device: torch.device, dtype: torch.dtype,
            repeat: int) -> dict[str, float]:
    """Seconds per clip (median), frames per second and peak memory (GiB, CUDA only) for one size."""
    h, w = size
    clip = torch.rand(1, 10, 3, h, w, generator=torch.Generator().manual_seed(0)).to(device=device, dtype=dtype)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    times = []
    with torch.inference_mode():
        first = net(clip)
        for _ in range(repeat):
            _sync(device)
            start = time.perf_counter()
            again = net(clip)
            _sync(device)
            times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else float("nan")
    return {"seconds": seconds, "fps": 10 / seconds, "peak_gib": peak, "same": float(torch.equal(first, again))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--dim", type=int, default=48)
    parser.add_argument("--sizes", default="256x256,480x864")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="fp32")
    args = parser.parse_args()
    device, dtype = torch.device(args.device), DTYPES[args.dtype]
    net = DynStaticNet(dim=args.dim).eval().to(device=device, dtype=dtype)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name("cpu")
    rows = []
    for text in args.sizes.split(","):
        h, w = (int(v) for v in text.lower().split("x"))
        r = measure(net, (h, w), device, dtype, args.repeat)
        rows.append(f"| {h}x{w} | {r['seconds']:.3f} | {r['fps']:.2f} | {r['peak_gib']:.2f} | {bool(r['same'])} |")
        print(rows[-1], flush=True)
    date = today()
    write_results(
        f"# DynStaticNet speed ({date})\n\nDevice: {name}; torch {torch.__version__}; width {args.dim}; "
        f"{args.dtype}; one 10-frame clip, whole frame, median of {args.repeat} after a warm-up.\n"
        f"Command: `python benchmarks/dynstaticnet_speed.py --device {args.device} --dim {args.dim} "
        f"--sizes {args.sizes} --repeat {args.repeat} --dtype {args.dtype}`\n\n"
        "| size (HxW) | s / clip | frames / s | peak GiB | repeatable |\n|---|---|---|---|---|\n"
        + "\n".join(rows) + "\n",
        "dynstaticnet_speed", device.type, date=date,
    )


if __name__ == "__main__":
    main()
