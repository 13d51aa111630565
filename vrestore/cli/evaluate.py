"""``vrestore eval``: PSNR/SSIM of restored videos against references, BasicSR conventions."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from vrestore.cli import _console
from vrestore.cli._app import app
from vrestore.cli._options import EvalDeviceOpt, JsonOpt, QuietOpt

if TYPE_CHECKING:
    from vrestore.metrics.video import EvalOptions, VideoScore

EXAMPLE = (
    "Example: vrestore eval restored.mp4 clean.mp4 --y-channel --crop-border 4 --json\n\n"
    "Each side is a video, a frame folder or a quoted glob; two folders of videos (or of frame folders) are "
    "paired by name. Metrics follow BasicSR: PSNR over all pixels and channels, SSIM with an 11x11 Gaussian "
    "(sigma 1.5) per channel, on the 0..255 scale (0..1023 for 10-bit). Identical frames have PSNR inf "
    '(JSON and CSV: the string "inf"); they are left out of the PSNR means and counted.'
)


@app.command("eval", epilog=EXAMPLE)
def eval_cmd(
    restored: Annotated[
        Optional[Path],
        typer.Argument(metavar="RESTORED", help="Restored video, frame folder, quoted glob, or folder of videos.",
                       show_default=False),
    ] = None,
    reference: Annotated[
        Optional[Path],
        typer.Argument(metavar="REFERENCE", help="Reference (ground truth) of the same kind.", show_default=False),
    ] = None,
    pairs: Annotated[
        Optional[Path], typer.Option("--pairs", metavar="CSV",
                                     help="CSV file of 'restored,reference' rows (relative to the file).")
    ] = None,
    y_channel: Annotated[
        bool, typer.Option("--y-channel", help="Score BT.601 luma, as BasicSR's test_y_channel (default: RGB).")
    ] = False,
    crop: Annotated[int, typer.Option("--crop-border", metavar="N", min=0,
                                      help="Pixels dropped on every side first.")] = 0,
    align: Annotated[str, typer.Option("--align", metavar="index|pts",
                                       help="Pair frames by 'index' or by timestamp ('pts').")] = "index",
    allow_mismatch: Annotated[
        bool, typer.Option("--allow-length-mismatch", help="Score the frames that pair up instead of failing.")
    ] = False,
    per_frame: Annotated[bool, typer.Option("--per-frame", help="Show every frame in the table.")] = False,
    csv_path: Annotated[
        Optional[Path], typer.Option("--csv", metavar="FILE",
                                     help="Write per-frame values to this CSV file.", show_default=False)
    ] = None,
    device: EvalDeviceOpt = "cpu",
    batch: Annotated[int, typer.Option("--batch", metavar="N", min=1, help="Frames scored per batch.")] = 8,
    plot: Annotated[
        Optional[Path], typer.Option("--plot", metavar="PNG",
                                     help="Draw per-frame PSNR curves into this PNG.", show_default=False)
    ] = None,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """PSNR and SSIM of restored videos against references, per frame, per video and overall."""
    from vrestore.errors import UsageError
    from vrestore.metrics.dataset import collect_pairs, read_pairs_csv
    from vrestore.metrics.report import EvalReport
    from vrestore.metrics.video import EvalOptions, evaluate_pair, validate

    if pairs is not None and (restored is not None or reference is not None):
        raise UsageError("give either RESTORED REFERENCE or --pairs list.csv, not both")
    if pairs is not None:
        jobs = read_pairs_csv(pairs)
    elif restored is not None and reference is not None:
        jobs = collect_pairs(restored, reference)
    else:
        raise UsageError("missing RESTORED and REFERENCE (or --pairs list.csv); see 'vrestore eval --help'")
    options = EvalOptions(y_channel=y_channel, crop_border=crop, align=align.strip().lower(),
                          allow_length_mismatch=allow_mismatch, device=device, batch=batch)
    validate(options)
    _console.show_warnings(not (quiet or json_out))
    scores = []
    started = time.monotonic()
    for restored_path, reference_path in jobs:
        began = time.monotonic()
        with _console.frame_progress(f"scoring {restored_path.name}", None, enabled=not (quiet or json_out)) as bar:

            def progress(done: int, began: float = began, bar: Any = bar) -> None:
                bar(done, None, time.monotonic() - began)

            scores.append(evaluate_pair(restored_path, reference_path, options, progress=progress))
    report = EvalReport(scores, options, time.monotonic() - started)
    if csv_path is not None:
        report.write_csv(csv_path)
    if plot is not None:
        _write_plot(plot, scores, options)
    if json_out:
        print(json.dumps(report.to_dict()))
    elif not quiet:
        _print_table(scores, options, per_frame)


def _write_plot(path: Path, scores: list[VideoScore], options: EvalOptions) -> None:
    """Per-frame PSNR of every scored pair in one chart (identical frames leave gaps)."""
    from vrestore.compare.plot import plot_curves
    from vrestore.io.frames import write_image

    space = "Y" if options.y_channel else "RGB"
    curves = [(_short(s.restored), s.frames, s.psnr) for s in scores]
    write_image(path, plot_curves(curves, title=f"PSNR per frame ({space})", y_label="dB"), overwrite=True)


def _short(path: str) -> str:
    """The path relative to the working folder when that is shorter."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return relative if len(relative) < len(path) else path


def _fmt(value: float, digits: int) -> str:
    return "inf" if math.isinf(value) else f"{value:.{digits}f}"


def _print_table(scores: list[VideoScore], options: EvalOptions, per_frame: bool) -> None:
    from rich.table import Column, Table

    from vrestore.metrics.video import mean_over_videos

    space = "Y (BT.601)" if options.y_channel else "RGB"
    caption = f"{space}, crop border {options.crop_border}, frames paired by {options.align}"
    table = Table(Column("restored", overflow="fold"), Column("frames", justify="right"),
                  Column("PSNR (dB)", justify="right"), Column("SSIM", justify="right"), box=None, caption=caption)
    for s in scores:
        table.add_row(_short(s.restored), str(s.count), _fmt(s.mean_psnr, 4), _fmt(s.mean_ssim, 6))
        if per_frame:
            for index, p, q in zip(s.frames, s.psnr, s.ssim, strict=True):
                table.add_row(f"  frame {index}", "", _fmt(p, 4), _fmt(q, 6))
    if len(scores) > 1:
        mean_psnr, mean_ssim = mean_over_videos(scores)
        table.add_row("mean of videos", str(sum(s.count for s in scores)), _fmt(mean_psnr, 4), _fmt(mean_ssim, 6))
    _console.stdout.print(table)
    identical = sum(s.identical_frames for s in scores)
    if identical:
        _console.stdout.print(f"{identical} identical frame(s) have PSNR inf and are left out of the PSNR means")
