"""Pretrain the SPyNet of a recipe's model on a classical flow teacher, and write an --init file (run by hand).

Usage:  python scripts/pretrain_spynet.py [configs/pgdenet-tud-cpu-fast.yml] [--init vrestore/weights/pgdenet-tud.pth]
        [--steps 1500] [--batch 8] [--lr 1e-4] [-o runs/pgdenet-tud-spynet-init.pth]

Pairs are drawn from the recipe's training pool (degraded frames in, DIS flow of the clean frames as the
target; ``vrestore.train.flow``); the rest of the network's weights are copied from --init unchanged. The
warping error on the recipe's validation clip (held out) is measured before and after, and written with the
command and date to benchmarks/results/spynet_pretrain-<date>.md. Then:

    vrestore train RECIPE --init runs/pgdenet-tud-spynet-init.pth
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from pathlib import Path

import torch

from vrestore.train.config import load_config
from vrestore.train.data import find_clips, load_clip
from vrestore.train.flow import pretrain, warping_errors
from vrestore.train.loop import build_model
from vrestore.train.pool import PooledSamples

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("recipe", type=Path, nargs="?", default=ROOT / "configs" / "pgdenet-tud-cpu-fast.yml")
    parser.add_argument("--init", type=Path, default=ROOT / "vrestore" / "weights" / "pgdenet-tud.pth")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--generation-steps", type=int, default=300, help="steps per pool generation")
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "runs" / "pgdenet-tud-spynet-init.pth")
    args = parser.parse_args()
    torch.set_num_threads(2)
    config = load_config(args.recipe, {"init": str(args.init.resolve())})
    if not config.data.pool:
        sys.exit(f"{args.recipe} has no data.pool; this script draws its pairs from the pool")
    if not config.data.val:
        sys.exit(f"{args.recipe} names no validation clip (data.val) to measure the warping error on")
    _, module = build_model(config)
    spynet = module.spynet
    clips = [load_clip(p, config.data.max_side) for p in find_clips([config.resolve(s) for s in config.data.train])]
    pool = PooledSamples(clips, config.data, config.seed + 1_000, 1)
    held_out = load_clip(find_clips([config.resolve(config.data.val[0])])[0], config.data.max_side, 12)
    before = warping_errors(spynet, held_out)
    started = time.perf_counter()
    curve: list[str] = []

    def report(step: int, epe: float) -> None:
        if step % 100 == 0 or step == args.steps:
            curve.append(f"| {step} | {epe:.3f} | {(time.perf_counter() - started) / 60:.1f} |")
            print(curve[-1], flush=True)

    pretrain(spynet, lambda k: pool.segments(k // args.generation_steps), args.steps, batch=args.batch,
             lr=args.lr, seed=config.seed, on_step=report)
    after = warping_errors(spynet, held_out)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    torch.save(module.state_dict(), args.output)
    date = dt.date.today().isoformat()
    lines = [f"# SPyNet pretraining on a DIS flow teacher, {config.model}, {date}", "",
             f"- device: CPU {platform.processor() or platform.machine()}, 2 threads, torch {torch.__version__}",
             f"- command: `python {' '.join(sys.argv)}`",
             f"- pairs: the pool of {args.recipe.name} (degraded in, DIS flow of the clean frames out, 1/4 scale, "
             f"gaps 1-2), batch {args.batch}, Adam lr {args.lr}, {args.steps} steps, "
             f"{(time.perf_counter() - started) / 60:.1f} min; init {args.init.name}",
             f"- held out: warping error of neighbouring clean frames of `{config.data.val[0]}` (first 12 frames, "
             "1/4 scale, 0-255, mean absolute)", "",
             "| flow | before | after |", "|---|---:|---:|",
             *(f"| {name} | {before[name]:.3f} | {after[name]:.3f} |" for name in before), "",
             "| step | EPE (px, 1/4 scale) | minutes |", "|---:|---:|---:|", *curve, ""]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"spynet_pretrain-{date}.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
