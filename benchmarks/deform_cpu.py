"""CPU deformable convolution: torchvision's kernel vs ``sampled_deform_conv2d``, side by side (run by hand).

Times one layer at PGDENet's sizes (forward, forward + backward) and one PGDENet forward with each op.
Usage:  python benchmarks/deform_cpu.py [--threads 2]
Writes benchmarks/results/deform_cpu-<date>.md (device, command, date, numbers).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

import vrestore.models.common.deform as deform
from vrestore.models import build, get_spec

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for benchmarks._results
from benchmarks._results import command, cpu_name, today, write_results  # noqa: E402

OPS = {"torchvision": deform._torchvision_op, "sampled": deform.sampled_deform_conv2d}


def seconds(fn: Callable[[], object], repeat: int) -> float:
    """Mean wall time of ``fn`` after one warm-up call."""
    fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat


def layer_times(op: Callable, frames: int, channels: int, groups: int, side: int) -> tuple[float, float]:
    """(forward, forward + backward) seconds of one deformable layer on ``frames`` feature maps."""
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(frames, channels, side, side, generator=gen, requires_grad=True)
    offset = (torch.randn(frames, 18 * groups, side, side, generator=gen) * 3).requires_grad_()
    mask = torch.rand(frames, 9 * groups, side, side, generator=gen, requires_grad=True)
    weight = torch.randn(channels, channels, 3, 3, generator=gen, requires_grad=True)
    bias = torch.zeros(channels, requires_grad=True)
    with torch.no_grad():
        forward = seconds(lambda: op(x, offset, weight, bias, mask, 1), 10)
    both = seconds(lambda: op(x, offset, weight, bias, mask, 1).sum().backward(), 10)
    return forward, both


def network_time(op_name: str, width: int, height: int, frames: int) -> float:
    """Seconds per frame of a ``pgdenet.official`` forward (random weights) with the given op on the CPU."""
    chosen = OPS[op_name]
    original = deform.sampled_deform_conv2d
    deform.sampled_deform_conv2d = chosen  # the CPU path of ModulatedDeformConv.deform
    try:
        model = build(get_spec("pgdenet.official")).eval()
        clip = torch.rand(1, frames, 3, height, width)
        with torch.no_grad():
            return seconds(lambda: model(clip), 1) / frames
    finally:
        deform.sampled_deform_conv2d = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for label, shape in (("pgdenet.tud training (6 x 32 ch, 8 groups, 34x34)", (6, 32, 8, 34)),
                         ("pgdenet.official width (1 x 96 ch, 24 groups, 96x96)", (1, 96, 24, 96))):
        times = {name: layer_times(op, *shape) for name, op in OPS.items()}
        tv, ours = times["torchvision"], times["sampled"]
        rows.append(f"| {label}, forward | {tv[0] * 1e3:.1f} | {ours[0] * 1e3:.1f} | {tv[0] / ours[0]:.2f}x |")
        rows.append(f"| {label}, forward + backward | {tv[1] * 1e3:.1f} | {ours[1] * 1e3:.1f} | "
                    f"{tv[1] / ours[1]:.2f}x |")
    net = {name: network_time(name, 640, 360, 4) for name in OPS}
    rows.append(f"| pgdenet.official forward, 640x360, 4-frame clip (ms per frame) | {net['torchvision'] * 1e3:.0f} | "
                f"{net['sampled'] * 1e3:.0f} | {net['torchvision'] / net['sampled']:.2f}x |")
    date = today()
    lines = [f"# CPU deformable convolution: torchvision vs sampled, {date}", "",
             f"- device: CPU {cpu_name()}, {args.threads} threads, "
             f"torch {torch.__version__}, python {platform.python_version()}",
             f"- command: `{command()}`", "",
             "| case | torchvision (ms) | sampled (ms) | speed-up |", "|---|---:|---:|---:|", *rows, ""]
    print("\n".join(lines))
    write_results("\n".join(lines), "deform_cpu", date=date)


if __name__ == "__main__":
    main()
