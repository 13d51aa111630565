"""``vrestore eval``: PSNR/SSIM between restored and reference videos, BasicSR conventions."""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from pathlib import Path
from typing import Annotated, Optional

import typer

from vrestore.cli import _console
from vrestore.cli._app import app
from vrestore.cli._options import JsonOpt, QuietOpt

EXAMPLE = (
    "Example: vrestore eval restored.mp4 clean.mp4 --y-channel --crop-border 4 --json\n\n"
    "Each side is a video, a frame folder or a quoted glob; two folders of videos (or of frame folders) are "
    "paired by name. PSNR of identical frames is inf (JSON: the string \"inf\") and left out of the means."
)


def _number(value: float) -> float | str:
    """JSON has no inf/nan: write them as strings."""
    if math.isinf(value) or math.isnan(value):
        return str(value)
    return round(value, 6)


@app.command("eval", epilog=EXAMPLE)
def eval_cmd(
    restored: Annotated[Optional[Path], typer.Argument(help="Restored video, frame folder, glob or folder of videos.",
                                                       show_default=False)] = None,
    reference: Annotated[Optional[Path], typer.Argument(help="Reference (ground truth), same kinds.",
                                                        show_default=False)] = None,
    pairs: Annotated[Optional[Path], typer.Option("--pairs", help="CSV of 'restored,reference' rows.")] = None,
    y_channel: Annotated[bool, typer.Option("--y-channel", help="Score the BT.601 Y channel (BasicSR).")] = False,
    crop: Annotated[int, typer.Option("--crop-border", min=0, help="Pixels dropped on every side.")] = 0,
    align: Annotated[str, typer.Option("--align", help="Pair frames by 'index' or 'pts'.")] = "index",
    allow_mismatch: Annotated[
        bool, typer.Option("--allow-length-mismatch", help="Score the frames that pair up instead of failing.")
    ] = False,
    per_frame: Annotated[bool, typer.Option("--per-frame", help="Show every frame in the table.")] = False,
    csv_path: Annotated[Optional[Path], typer.Option("--csv", help="Write per-frame values to this CSV file.")] = None,
    device: Annotated[str, typer.Option("--device", "-d", help="cpu, cuda or cuda:N.")] = "cpu",
    batch: Annotated[int, typer.Option("--batch", min=1, help="Frames per computation batch.")] = 8,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """PSNR and SSIM of restored videos against references, per frame and per video."""
    from vrestore.errors import UsageError
    from vrestore.metrics.dataset import collect_pairs, read_pairs_csv
    from vrestore.metrics.video import EvalOptions, evaluate_pair
    from vrestore.models import resolve_device

    if pairs is not None:
        jobs = read_pairs_csv(pairs)
    elif restored is not None and reference is not None:
        jobs = collect_pairs(restored, reference)
    else:
        raise UsageError("give RESTORED and REFERENCE, or --pairs list.csv; see 'vrestore eval --help'")
    options = EvalOptions(y_channel=y_channel, crop_border=crop, align=align, allow_length_mismatch=allow_mismatch,
                          device=str(resolve_device(device)), batch=batch)
    _console.show_warnings(not quiet)
    scores = []
    for restored_path, reference_path in jobs:
        with _console.frame_progress(f"scoring {restored_path.name}", None, enabled=not quiet) as update:
            scores.append(evaluate_pair(restored_path, reference_path, options,
                                        progress=lambda n: update(n, None, 0.0)))
    if csv_path is not None:
        _write_csv(csv_path, scores)
    summary = {
        "psnr": statistics.fmean([s.mean_psnr for s in scores if not math.isinf(s.mean_psnr)] or [math.inf]),
        "ssim": statistics.fmean([s.mean_ssim for s in scores]),
    }
    if json_out:
        print(json.dumps(_report(scores, summary, options)))
    elif not quiet:
        _print_table(scores, summary, per_frame)


def _report(scores, summary, options) -> dict:
    return {
        "videos": [
            {
                "restored": s.restored,
                "reference": s.reference,
                "frames": s.frames,
                "psnr": _number(s.mean_psnr),
                "ssim": _number(s.mean_ssim),
                "identical_frames": s.identical_frames,
                "per_frame": {"psnr": [_number(v) for v in s.psnr], "ssim": [_number(v) for v in s.ssim]},
            }
            for s in scores
        ],
        "mean": {"psnr": _number(summary["psnr"]), "ssim": _number(summary["ssim"])},
        "options": {"y_channel": options.y_channel, "crop_border": options.crop_border, "align": options.align},
    }


def _write_csv(path: Path, scores) -> None:
    """Per-frame rows, written atomically (temporary name, then rename)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["restored", "reference", "frame", "psnr", "ssim"])
    for s in scores:
        for index, (p, q) in enumerate(zip(s.psnr, s.ssim, strict=True)):
            writer.writerow([s.restored, s.reference, index, _number(p), _number(q)])
    temp = path.with_name(f".{path.name}.part")
    temp.write_text(buffer.getvalue())
    temp.replace(path)


def _short(path: str) -> str:
    """The path relative to the working folder when that is shorter."""
    import os

    relative = os.path.relpath(path)
    return relative if len(relative) < len(path) else path


def _print_table(scores, summary, per_frame: bool) -> None:
    from rich.table import Column, Table

    table = Table(Column("restored", overflow="fold"), "frames", "PSNR (dB)", "SSIM", box=None)
    for s in scores:
        table.add_row(_short(s.restored), str(s.frames), f"{s.mean_psnr:.4f}", f"{s.mean_ssim:.6f}")
        if per_frame:
            for index, (p, q) in enumerate(zip(s.psnr, s.ssim, strict=True)):
                table.add_row(f"  frame {index}", "", f"{p:.4f}", f"{q:.6f}")
    if len(scores) > 1:
        table.add_row("mean", str(sum(s.frames for s in scores)), f"{summary['psnr']:.4f}", f"{summary['ssim']:.6f}")
    _console.stdout.print(table)
    identical = sum(s.identical_frames for s in scores)
    if identical:
        _console.stdout.print(f"{identical} identical frame(s) have PSNR inf and are left out of the PSNR means")
