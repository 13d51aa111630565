"""``vrestore analyze``: noise level, blockiness and blur per second, as a table or JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from vrestore.cli import _console
from vrestore.cli._app import app
from vrestore.cli._options import JsonOpt, QuietOpt

if TYPE_CHECKING:
    from vrestore.analyze import Analysis

EXAMPLE = (
    "Example: vrestore analyze in.mp4 --json\n\n"
    "noise: standard deviation of the noise, 0-255 (the level --sigma auto would use; patch PCA, Chen et al. "
    "2015). blockiness: block-edge steps over interior steps on the 8-px grid (1.0 none, 1.5 clearly blocky). "
    "blur: Crete-Roffet 2007, 0 sharp to 1 blurred. Exit codes: 0 ok, 2 usage, 3 unreadable or empty input."
)


@app.command(epilog=EXAMPLE)
def analyze(
    source: Annotated[Path, typer.Argument(metavar="INPUT", show_default=False,
                                           help="Video file, .y4m, frame folder or quoted glob.")],
    samples: Annotated[int, typer.Option("--samples", metavar="N", min=1,
                                         help="Frames measured per second (evenly by timestamp).")] = 2,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Measure noise level, blockiness and blur per second, to choose a model and its --sigma."""
    from vrestore.analyze import analyze_video

    _console.show_warnings(not quiet)
    with _console.frame_progress(f"analysing {source.name}", None, enabled=not quiet and not json_out) as update:
        result = analyze_video(source, samples_per_second=samples,
                               progress=lambda done: update(done, None, 0.0))
    if json_out:
        print(json.dumps(result.to_dict()), flush=True)
    elif not quiet:
        _print_table(result)


def _print_table(result: Analysis) -> None:
    from rich.table import Column, Table

    table = Table(Column("second", justify="right"), Column("frames", justify="right"),
                  Column("noise (0-255)", justify="right"), Column("blockiness", justify="right"),
                  Column("blur", justify="right"), title=f"{result.input} ({result.width}x{result.height})")
    for row in result.seconds:
        table.add_row(str(row.second), str(row.frames), f"{row.noise:.1f}", f"{row.blockiness:.2f}",
                      f"{row.blur:.2f}")
    overall = result.overall()
    table.add_row("median", str(result.frames), f"{overall['noise']:.1f}", f"{overall['blockiness']:.2f}",
                  f"{overall['blur']:.2f}", style="bold")
    _console.stdout.print(table)
