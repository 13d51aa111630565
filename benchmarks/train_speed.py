"""Training throughput of two recipes side by side, in one run (run by hand).

Usage:  python benchmarks/train_speed.py [--base configs/pgdenet-tud-cpu.yml]
        [--new configs/pgdenet-tud-cpu-fast.yml] [--rounds 4] [--steps 3] [--threads 2]
        [--init vrestore/weights/pgdenet-tud.pth]

Both recipes must train the same model on samples of the same size (frames x crop x crop), so that clips per
second compare like for like. Each recipe gets its own model (from --init), optimiser and samples, built as
``vrestore train`` builds them; the rounds alternate between the recipes (``--steps`` steps of each per round)
so that whatever else the machine does weighs on both alike.

Per clip it measures the data time (cutting and degrading samples) and the step time (forward, backward,
optimiser, under the recipe's bf16 setting). A pooled recipe (``data.pool``) also pays for building each
generation of its pool: that time is measured once and spread over the ``pool * pool_reuse`` samples a
generation serves. Writes benchmarks/results/train_speed-<date>.md with device, command and date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import platform
import sys
import time
from pathlib import Path

import torch

from vrestore.train.config import TrainConfig, load_config
from vrestore.train.data import TrainSamples, find_clips, load_clip
from vrestore.train.loop import build_model, training_step
from vrestore.train.pool import PooledSamples

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"


class Recipe:
    """One recipe's model, optimiser and samples, and the seconds it spent."""

    def __init__(self, path: Path, init: Path) -> None:
        self.path = path
        self.config: TrainConfig = load_config(path, {"init": str(init)})
        self.spec, self.module = build_model(self.config)
        self.module.train()
        self.optimizer = torch.optim.AdamW(self.module.parameters(), lr=self.config.lr)
        data = self.config.data
        clips = [load_clip(p, data.max_side) for p in find_clips([self.config.resolve(s) for s in data.train])]
        kind = PooledSamples if data.pool else TrainSamples
        self.samples = kind(clips, data, self.config.seed, 10**9)
        self.next_index = 0
        self.build_s = 0.0
        if isinstance(self.samples, PooledSamples):
            started = time.perf_counter()
            self.samples.segments(0)
            self.build_s = time.perf_counter() - started
        self.data_s = self.step_s = 0.0
        self.clips = 0

    @property
    def sample_shape(self) -> tuple[int, int]:
        return self.config.data.frames, self.config.data.crop

    def run(self, steps: int, measured: bool = True) -> None:
        """``steps`` training steps; their times count when ``measured``."""
        for _ in range(steps):
            started = time.perf_counter()
            batch = [self.samples[self.next_index + i] for i in range(self.config.batch_size)]
            degraded = torch.stack([lq for lq, _ in batch])
            clean = torch.stack([gt for _, gt in batch])
            loaded = time.perf_counter()
            training_step(self.spec, self.module, degraded, clean, self.optimizer, self.config)
            done = time.perf_counter()
            self.next_index += self.config.batch_size
            if measured:
                self.data_s += loaded - started
                self.step_s += done - loaded
                self.clips += self.config.batch_size

    def per_clip(self) -> tuple[float, float, float]:
        """(data, pool build, step) seconds per clip."""
        build = 0.0
        if isinstance(self.samples, PooledSamples):
            build = self.build_s / self.samples.per_generation
        return self.data_s / self.clips, build, self.step_s / self.clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, default=ROOT / "configs" / "pgdenet-tud-cpu.yml")
    parser.add_argument("--new", type=Path, default=ROOT / "configs" / "pgdenet-tud-cpu-fast.yml")
    parser.add_argument("--init", type=Path, default=ROOT / "vrestore" / "weights" / "pgdenet-tud.pth")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3, help="steps of each recipe per round")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    recipes = [Recipe(args.base, args.init), Recipe(args.new, args.init)]
    if len({(r.config.model, r.sample_shape) for r in recipes}) != 1:
        sys.exit("the recipes must train the same model on samples of the same size")
    for recipe in recipes:
        recipe.run(1, measured=False)  # warm-up: first-call allocations, oneDNN kernel selection
    for _ in range(args.rounds):
        for recipe in recipes:
            recipe.run(args.steps)
    rows, rates = [], []
    for recipe in recipes:
        data, build, step = recipe.per_clip()
        total = data + build + step
        rates.append(1.0 / total)
        cfg = recipe.config
        pool = f"{cfg.data.pool} x {cfg.data.pool_reuse}" if cfg.data.pool else "off"
        rows.append(f"| `{recipe.path.relative_to(ROOT) if recipe.path.is_relative_to(ROOT) else recipe.path}` | "
                    f"{cfg.batch_size} | {'bf16' if cfg.bf16 else 'fp32'} | {pool} | {data:.3f} | {build:.3f} | "
                    f"{step:.3f} | {total:.3f} | {1.0 / total:.3f} | {rates[-1] / rates[0]:.2f}x |")
    frames, crop = recipes[0].sample_shape
    date = dt.date.today().isoformat()
    lines = [f"# Training throughput, {recipes[0].config.model}, {date}", "",
             f"- device: CPU {platform.processor() or platform.machine()} "
             f"(capability {torch.backends.cpu.get_cpu_capability()}), {args.threads} threads, "
             f"torch {torch.__version__}, python {platform.python_version()}",
             f"- command: `python {' '.join(sys.argv)}`",
             f"- sample: {frames} frames of {crop}x{crop}; {args.rounds} alternating rounds of {args.steps} steps "
             f"per recipe after one warm-up step; pool build of one generation measured once: "
             f"{recipes[1].build_s:.1f} s", "",
             "| recipe | batch | precision | pool (segments x reuse) | data s/clip | pool build s/clip | "
             "step s/clip | total s/clip | clips/s | vs base |",
             "|---|---:|---|---|---:|---:|---:|---:|---:|---:|", *rows, ""]
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"train_speed-{date}.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
