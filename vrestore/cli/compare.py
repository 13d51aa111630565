"""``vrestore compare``: side-by-side, grid and split-screen videos, and PNG grids of chosen frames."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from vrestore.cli import _console
from vrestore.cli._app import app
from vrestore.cli._options import ENCODE, JsonOpt, OverwriteOpt, QuietOpt, encode_options
from vrestore.errors import UsageError
from vrestore.options import EncodeOptions

EXAMPLE = (
    "Examples: vrestore compare degraded.mp4 restored.mp4 -o cmp.mp4;  "
    "vrestore compare lq.mp4 ours.mp4 --split -o wipe.mp4;  "
    "vrestore compare a.mp4 b.mp4 c.mp4 clean.mp4 --crop 200,120,160,90 --zoom 3 -o detail.mp4;  "
    "vrestore compare lq.mp4 ours.mp4 --frames 0,50,100 --reference clean.mp4 -o grid.png"
)


@app.command(epilog=EXAMPLE)
@encode_options(preset=False)
def compare(
    inputs: Annotated[list[Path], typer.Argument(metavar="INPUT", show_default=False,
                                                 help="2 to 4 videos or frame folders, in display order.")],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE",
                                         help="Comparison video (.mp4/.mkv/...) or, with "
                                              "--frames, an image (.png).", show_default=False)],
    labels: Annotated[Optional[str], typer.Option("--labels", metavar="A,B,...", help="Comma-separated panel names "
                                                                   "(default: the file names).")] = None,
    layout: Annotated[str, typer.Option("--layout", metavar="auto|row|column|grid",
                                        help="auto (2-3 in a row, 4 as 2x2), row, column or grid.")
                      ] = "auto",
    split_screen: Annotated[bool, typer.Option("--split", help="One picture with a vertical wipe line: the first "
                                                               "input left of it, the second right.")] = False,
    split_position: Annotated[float, typer.Option("--split-position", metavar="X",
                                                  help="Where the wipe line is, 0..1 of "
                                                       "the width.")] = 0.5,
    crop: Annotated[Optional[str], typer.Option("--crop", metavar="X,Y,W,H",
                                                help="Detail region x,y,w,h in source pixels.")] = None,
    zoom: Annotated[int, typer.Option("--zoom", metavar="N", min=1,
                                      help="Enlarge the --crop region (nearest neighbour).")] = 1,
    frames: Annotated[Optional[str], typer.Option("--frames", metavar="N,N,...",
                                                  help="Frame numbers for a still grid, e.g. "
                                                       "0,50,100 (output: an image).")] = None,
    reference: Annotated[Optional[Path], typer.Option("--reference", metavar="FILE",
                                                      help="Clean reference: still-grid labels "
                                                           "get PSNR/SSIM against it.")] = None,
    encode: EncodeOptions = ENCODE,
    overwrite: OverwriteOpt = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Put restored and degraded videos next to each other to judge them by eye."""
    from vrestore.compare.layout import parse_crop
    from vrestore.compare.run import CompareOptions, compare_stills, compare_videos

    if zoom > 1 and crop is None:
        raise UsageError("--zoom enlarges a --crop region; give --crop x,y,w,h too")
    options = CompareOptions(
        labels=tuple(v.strip() for v in labels.split(",")) if labels is not None else None,
        layout=layout, split=split_screen, split_position=split_position,
        crop=parse_crop(crop, zoom) if crop is not None else None,
        encode=encode, overwrite=overwrite,
    )
    _console.show_warnings(not quiet and not json_out)
    if frames is not None:
        result = compare_stills(inputs, _frame_numbers(frames), output, options, reference)
    else:
        if reference is not None:
            raise UsageError("--reference scores still frames; add --frames, or compare the reference as an input")
        result = compare_videos(inputs, output, options)
    if json_out:
        print(json.dumps(result.to_dict()), flush=True)
    elif not quiet:
        what = "frames" if frames is None else "rows"
        print(f"compared {len(inputs)} inputs -> {result.output} ({result.width}x{result.height}, "
              f"{result.frames} {what})", flush=True)


def _frame_numbers(text: str) -> list[int]:
    try:
        return [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"--frames '{text}' must be comma-separated frame numbers, e.g. 0,50,100") from None
