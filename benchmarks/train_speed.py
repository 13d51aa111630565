"""Training throughput of two recipes side by side, in one run (run by hand).

Usage:  python benchmarks/train_speed.py [--base configs/pgdenet-tud-cpu.yml]
        [--new configs/pgdenet-tud-cpu-fast.yml] [--rounds 4] [--steps 3] [--threads 2]
        [--init vrestore/weights/pgdenet-tud.pth] [--tag NAME]

Both recipes must train the same model on samples of the same size (frames x crop x crop), so that clips per
second compare like for like. Each recipe runs in its own worker process (its own model from --init,
optimiser and samples, built as ``vrestore train`` builds them), because some speed settings belong to a
process: the base recipe runs as training ran before 2026-12-05 (default allocator, contiguous tensors), the
new one with ``place_for_training`` (an allocator that keeps freed memory, the spec's channels_last) and
``make_optimizer`` (fused AdamW). The
rounds alternate between the workers (``--steps`` steps of each per round) so that whatever else the machine
does weighs on both alike.

Per clip it measures the data time (cutting and degrading samples) and the step time (forward, backward,
optimiser, under the recipe's bf16 setting). A pooled recipe (``data.pool``) also pays for building each
generation of its pool: that time is measured once and spread over the ``pool * pool_reuse`` samples a
generation serves. Writes benchmarks/results/train_speed-<date>.md with device, command and date.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import torch

from vrestore.train.config import TrainConfig, load_config
from vrestore.train.data import TrainSamples, find_clips, load_clip
from vrestore.train.loop import build_model, freeze, make_optimizer, place_for_training, training_step
from vrestore.train.pool import PooledSamples

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for benchmarks._results
from benchmarks._results import command, cpu_flags, cpu_model, today, write_results  # noqa: E402


class Recipe:
    """One recipe's model, optimiser and samples, and the seconds it spent."""

    def __init__(self, path: Path, init: Path, settings: bool) -> None:
        self.path = path
        self.config: TrainConfig = load_config(path, {"init": str(init)})
        self.spec, self.module = build_model(self.config)
        if settings:
            place_for_training(self.spec, self.module, torch.device("cpu"))
        else:
            self.module.train()
        params = list(self.module.parameters())
        freeze(self.module, self.config.freeze)
        self.optimizer = (make_optimizer(params, self.config, torch.device("cpu")) if settings
                          else torch.optim.AdamW(params, lr=self.config.lr))
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


def worker(path: Path, init: Path, threads: int, settings: bool) -> None:
    """Serve one recipe: each stdin line ``N`` runs N measured steps (``0``: one warm-up step), ``report``
    prints the per-clip times as JSON and ends."""
    torch.set_num_threads(threads)
    recipe = Recipe(path, init, settings)
    print(json.dumps({"model": recipe.config.model, "shape": recipe.sample_shape}), flush=True)
    for line in sys.stdin:
        if line.strip() == "report":
            data, build, step = recipe.per_clip()
            cfg = recipe.config
            print(json.dumps({"data": data, "build": build, "step": step, "build_s": recipe.build_s,
                              "batch": cfg.batch_size, "bf16": cfg.bf16,
                              "pool": f"{cfg.data.pool} x {cfg.data.pool_reuse}" if cfg.data.pool else "off"}),
                  flush=True)
            return
        steps = int(line)
        recipe.run(max(steps, 1), measured=steps > 0)
        print("done", flush=True)


class Worker:
    """A recipe served by a ``--worker`` process."""

    def __init__(self, path: Path, args: argparse.Namespace, settings: bool) -> None:
        self.path, self.settings = path, settings
        command = [sys.executable, __file__, "--worker", str(path), "--init", str(args.init),
                   "--threads", str(args.threads)] + (["--settings"] if settings else [])
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.info = json.loads(self._read())

    def _read(self) -> str:
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"the worker for {self.path} stopped (exit {self.process.wait()})")
        return line

    def ask(self, line: str) -> str:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self._read()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, default=ROOT / "configs" / "pgdenet-tud-cpu.yml")
    parser.add_argument("--new", type=Path, default=ROOT / "configs" / "pgdenet-tud-cpu-fast.yml")
    parser.add_argument("--init", type=Path, default=ROOT / "vrestore" / "weights" / "pgdenet-tud.pth")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=3, help="steps of each recipe per round")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tag", help="suffix of the results file (e.g. the CPU: train_speed-<date>-<tag>.md)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--settings", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.init, args.threads, args.settings)
        return
    workers = [Worker(args.base, args, settings=False), Worker(args.new, args, settings=True)]
    if len({(w.info["model"], tuple(w.info["shape"])) for w in workers}) != 1:
        sys.exit("the recipes must train the same model on samples of the same size")
    for w in workers:
        w.ask("0")  # warm-up: first-call allocations, oneDNN kernel selection
    for _ in range(args.rounds):
        for w in workers:
            w.ask(str(args.steps))
    reports = [json.loads(w.ask("report")) for w in workers]
    rows, rates = [], []
    for w, r in zip(workers, reports, strict=True):
        total = r["data"] + r["build"] + r["step"]
        rates.append(1.0 / total)
        name = w.path.relative_to(ROOT) if w.path.is_relative_to(ROOT) else w.path
        rows.append(f"| `{name}` | {'new' if w.settings else 'before'} | {r['batch']} | "
                    f"{'bf16' if r['bf16'] else 'fp32'} | {r['pool']} | {r['data']:.3f} | {r['build']:.3f} | "
                    f"{r['step']:.3f} | {total:.3f} | {1.0 / total:.3f} | {rates[-1] / rates[0]:.2f}x |")
    frames, crop = workers[0].info["shape"]
    date = today()
    lines = [f"# Training throughput, {workers[0].info['model']}, {date}", "",
             f"- device: CPU {cpu_model()} (flags {', '.join(cpu_flags())}; torch capability "
             f"{torch.backends.cpu.get_cpu_capability()}), {args.threads} threads, "
             f"torch {torch.__version__}, python {platform.python_version()}",
             f"- command: `{command()}`",
             f"- sample: {frames} frames of {crop}x{crop}; {args.rounds} alternating rounds of {args.steps} steps "
             f"per recipe after one warm-up step, one worker process per recipe; pool build of one generation "
             f"measured once: {reports[1]['build_s']:.1f} s",
             "- process settings: `before` = default allocator, contiguous tensors (training before 2026-12-05); "
             "`new` = `place_for_training` + `make_optimizer` (allocator keeps freed memory, channels_last, "
             "fused AdamW)", "",
             "| recipe | process settings | batch | precision | pool (segments x reuse) | data s/clip | "
             "pool build s/clip | step s/clip | total s/clip | clips/s | vs base |",
             "|---|---|---:|---|---|---:|---:|---:|---:|---:|---:|", *rows, ""]
    print("\n".join(lines))
    write_results("\n".join(lines), "train_speed", *([args.tag] if args.tag else []), date=date)


if __name__ == "__main__":
    main()
