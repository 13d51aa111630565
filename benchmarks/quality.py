"""Restoration quality on the held-out test clips: degraded input, classical baselines and a model (run by hand).

Usage:  python benchmarks/quality.py [--model pgdenet] [--weights FILE] [--data ../shared/data/test/davis]
        [--interval 12] [--seed 0] [--seeds 1 2] [--device auto] [--skip-baselines] [--tag NAME]

For every clip (frame folder) of --data it runs, as a user would,

    vrestore synth CLIP work/<clip>_lq.mkv --protocol tud --interval 12 --seed 0
    vrestore restore work/<clip>_lq.mkv work/<clip>_restored.mkv --model MODEL --codec ffv1

and scores (RGB PSNR and SSIM, 8-bit, BasicSR conventions, no border crop) against the clean frames:
the degraded input, the classical baselines of benchmarks/_baselines.py (OpenCV NLM, median and Gaussian blur;
FFmpeg nlmeans, atadenoise and fftdnoiz; a motion-compensated temporal average) with their parameter tuned
for the best mean PSNR over all clips, and the model.
Writes benchmarks/results/quality-<date>[-<tag>].md with the exact commands, and quality.md (the latest record
of the shipped model) when it measured the bundled weights with every baseline. ``--skip-baselines`` (a quick
check of candidate weights) scores the input and the model only.

``--seeds 1 2`` adds a robustness table: the same clips degraded with further seeds (other draw sequences of
the protocol; with one seed every clip gets the same sequence, so one table rests on a single draw of 30
frames), scoring the input, the model and each baseline at the value tuned on ``--seed``, with the mean over
all seeds. The acceptance table stays the one of ``--seed``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vrestore.metrics.psnr import psnr
from vrestore.metrics.ssim import ssim
from vrestore.weights.download import hash_file
from vrestore.weights.manifest import load_manifest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for benchmarks._results
from benchmarks._baselines import BASELINES  # noqa: E402
from benchmarks._frames import frames_of  # noqa: E402
from benchmarks._results import command, today, write_results  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "test" / "davis"

def run(command: list[str], log: list[str]) -> None:
    """Run a vrestore command, recording it; stop the benchmark when it fails."""
    log.append(shlex.join(command))
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"command failed ({result.returncode}): {shlex.join(command)}\n{result.stderr}")


def score(images: list[np.ndarray], clean: list[np.ndarray]) -> tuple[float, float]:
    """Mean PSNR and SSIM (RGB, 8-bit) over the frames."""
    a = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2)
    b = torch.from_numpy(np.stack(clean)).permute(0, 3, 1, 2)
    return float(psnr(a, b, 255.0).clamp(max=100).mean()), float(ssim(a, b, 255.0).mean())


def test_clip_parser(description: str | None) -> argparse.ArgumentParser:
    """The options of a benchmark on TUD-degraded test clips: --model, --weights, --data, --interval, --seed,
    --tag."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="pgdenet")
    parser.add_argument("--weights", type=Path)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--interval", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tag", help="suffix of the results file (e.g. candidate-step3000)")
    return parser


Scores = dict[str, dict[str, tuple[float, float]]]  # clip -> method -> (PSNR, SSIM)


def main() -> None:
    parser = test_clip_parser(__doc__)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--work", type=Path, help="keep intermediate videos here (default: a temporary folder)")
    parser.add_argument("--skip-baselines", action="store_true", help="score the input and the model only")
    parser.add_argument("--seeds", type=int, nargs="+", default=[],
                        help="further synth seeds for a robustness table (baselines at the values tuned on --seed)")
    args = parser.parse_args()

    clips = sorted(p for p in args.data.resolve().iterdir() if p.is_dir())
    commands: list[str] = []
    work = args.work or Path(tempfile.mkdtemp(prefix="vrestore-quality-"))
    work.mkdir(parents=True, exist_ok=True)
    clean_frames = {clip.name: frames_of(clip) for clip in clips}
    rows, degraded_frames = degrade_and_restore(clips, clean_frames, args.seed, work, args, commands)

    baselines = {} if args.skip_baselines else BASELINES
    chosen: dict[str, float] = {}
    for name, baseline in baselines.items():
        # Clip by clip, every value (a temporal baseline aligns each clip once), then the value with the best mean.
        scores = {c: {v: score(baseline.apply(degraded_frames[c], v), clean_frames[c]) for v in baseline.values}
                  for c in rows}
        chosen[name] = max(baseline.values, key=lambda v: float(np.mean([scores[c][v][0] for c in rows])))
        for c in rows:
            rows[c][name] = scores[c][chosen[name]]

    columns = ["degraded", *baselines, "ours"]
    by_seed = {args.seed: _means(rows, columns)}
    for seed in (s for s in args.seeds if s != args.seed):
        seed_rows, seed_degraded = degrade_and_restore(clips, clean_frames, seed, work, args, commands,
                                                       suffix=f"_s{seed}")
        for name, baseline in baselines.items():
            for c in seed_rows:
                seed_rows[c][name] = score(baseline.apply(seed_degraded[c], chosen[name]), clean_frames[c])
        by_seed[seed] = _means(seed_rows, columns)

    gpu = torch.cuda.is_available() and args.device != "cpu"
    device = torch.cuda.get_device_name(0) if gpu else "CPU"
    tuned = ", ".join(f"{k} {baselines[k].label}={v}" for k, v in chosen.items()) or "none (--skip-baselines)"
    lines = [f"# Restoration quality on {args.data.name} test clips, TUD-T{args.interval} seed {args.seed} "
             f"({today()})", "",
             f"- model: `{args.model}`" + (_describe_weights(args.weights) if args.weights else ""),
             f"- command: `{command(quote=True)}`",
             f"- device: {device}"
             f" ({os.cpu_count()} cores), {platform.platform()}; python {platform.python_version()}, "
             f"torch {torch.__version__}",
             "- metrics: RGB PSNR (dB) / SSIM, 8-bit, BasicSR conventions, no border crop, mean over frames",
             f"- baselines tuned for the best mean PSNR over all clips: {tuned}",
             "", *_table("clip", {**rows, "**mean**": by_seed[args.seed]}, columns),
             "", _gains(by_seed[args.seed], baselines) + "."]
    if len(by_seed) > 1:
        overall = _means(by_seed, columns)
        lines += ["", f"Robustness: the mean over the clips for each synth seed (other draw sequences; baselines at "
                  f"the values tuned on seed {args.seed}), and the mean over the seeds:", "",
                  *_table("seed", {**{str(s): m for s, m in by_seed.items()}, "**mean**": overall}, columns),
                  "", _gains(overall, baselines) + f" (mean over seeds {', '.join(map(str, by_seed))})."]
    lines += ["", "Commands run per clip:", "", "```", *commands, "```", ""]
    text = "\n".join(lines)
    print(text)
    write_results(text, "quality", *([args.tag] if args.tag else []))
    if baselines and not args.weights:
        write_results(text, "quality", dated=False)  # the latest record of the shipped weights


def degrade_and_restore(clips: list[Path], clean_frames: dict[str, list[np.ndarray]], seed: int, work: Path,
                        args: argparse.Namespace, commands: list[str],
                        suffix: str = "") -> tuple[Scores, dict[str, list[np.ndarray]]]:
    """Degrade every clip with ``seed`` and restore it with the model, as a user would; the scores of the
    degraded input and of the model per clip (against ``clean_frames``), and the degraded frames (for the
    baselines)."""
    vrestore = [sys.executable, "-m", "vrestore"]
    rows: Scores = {}
    degraded_frames = {}
    for clip in clips:
        lq, out = work / f"{clip.name}{suffix}_lq.mkv", work / f"{clip.name}{suffix}_restored.mkv"
        run([*vrestore, "synth", str(clip), str(lq), "--protocol", "tud", "--interval", str(args.interval),
             "--seed", str(seed), "--overwrite", "--quiet"], commands)
        restore = [*vrestore, "restore", str(lq), str(out), "--model", args.model, "--codec", "ffv1",
                   "--device", args.device, "--overwrite", "--quiet"]
        if args.weights:
            restore += ["--weights", str(args.weights)]
        run(restore, commands)
        clean = clean_frames[clip.name]
        degraded_frames[clip.name] = frames_of(lq)
        rows[clip.name] = {"degraded": score(degraded_frames[clip.name], clean), "ours": score(frames_of(out), clean)}
    return rows, degraded_frames


def _means(rows: Mapping[Any, Mapping[str, tuple[float, float]]], columns: list[str]) -> dict[str, tuple[float, float]]:
    """The mean PSNR and SSIM over the rows (clips, or the seeds' means), per method."""
    return {k: (float(np.mean([rows[c][k][0] for c in rows])), float(np.mean([rows[c][k][1] for c in rows])))
            for k in columns}


def _table(first: str, rows: dict[str, dict[str, tuple[float, float]]], columns: list[str]) -> list[str]:
    """A Markdown table of PSNR / SSIM, one line per row; a row named in bold is printed in bold."""
    lines = [f"| {first} | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for name, scores in rows.items():
        cell = "**{:.2f} / {:.4f}**" if name.startswith("**") else "{:.2f} / {:.4f}"
        lines.append(f"| {name} | " + " | ".join(cell.format(*scores[k]) for k in columns) + " |")
    return lines


def _gains(means: dict[str, tuple[float, float]], baselines: dict) -> str:
    """The model's gain over the degraded input and over the best baseline."""
    gain = f"Gain of the model over the degraded input: {means['ours'][0] - means['degraded'][0]:+.2f} dB"
    if baselines:
        best = max(baselines, key=lambda k: means[k][0])
        gain += f"; over the best baseline ({best}): {means['ours'][0] - means[best][0]:+.2f} dB"
    return gain


def _describe_weights(path: Path) -> str:
    """The --weights file with its sha256, naming the weights.toml entry that bundles the same file."""
    digest, _ = hash_file(path)
    bundled = [f"`vrestore/{e.file}`" for e in load_manifest().values() if e.bundled and e.sha256 == digest]
    return f" with `--weights {path}` (sha256 {digest})" + (f", the file bundled as {bundled[0]}" if bundled else "")


if __name__ == "__main__":
    main()
