"""``vrestore demo``: degrade the bundled clip, restore it and show the difference, in one command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from vrestore.cli import _console
from vrestore.cli._app import app
from vrestore.cli._options import DeviceOpt, JsonOpt, QuietOpt
from vrestore.demo import DEMO_CLIP, DEMO_INTERVAL, DEMO_SEED, demo_model, run_demo

DEMO_OUTPUT = Path("vrestore-demo.mp4")


@app.command(epilog="Example: vrestore demo   (writes ./vrestore-demo.mp4, ./vrestore-demo-degraded.mp4 and "
                     "./vrestore-demo-compare.mp4)")
def demo(
    output: Annotated[
        Optional[Path], typer.Argument(metavar="OUTPUT", help="Where to write the restored clip (the degraded "
                                       "input and the side-by-side go beside it as <stem>-degraded.mp4 and "
                                       "<stem>-compare.mp4).", show_default=False)
    ] = None,
    device: DeviceOpt = "auto",
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Degrade the bundled clip (TUD protocol), restore it with the default model, compare and score the files."""
    model_id, why = demo_model()
    destination = output or DEMO_OUTPUT
    comparison = destination.with_name(f"{destination.stem}-compare.mp4")
    if not quiet and not json_out:
        _console.stderr.print(
            f"demo: degrading the bundled clip {DEMO_CLIP} (TUD, interval {DEMO_INTERVAL}, seed {DEMO_SEED}) "
            f"and restoring it with {why}", highlight=False)
    _console.show_warnings(not quiet and not json_out)
    with _console.frame_progress("demo", None, enabled=not quiet and not json_out) as update:
        show = _console.follow(update)
        # The demo may replace its own default outputs from a previous run, never a file the user named.
        result = run_demo(destination, comparison, model=model_id, device=device, overwrite=output is None,
                          progress=lambda stage, p: show(p))
    if json_out:
        print(json.dumps(result.to_dict()), flush=True)
    elif not quiet:
        print(
            f"restored {result.frames} frames with {result.model} on {result.device} in {result.seconds:.1f} s\n"
            f"scored the files written against the clean clip {result.reference} (as 'vrestore eval FILE CLEAN'):\n"
            f"  degraded {result.degraded}: PSNR {result.degraded_psnr:.2f} dB  SSIM {result.degraded_ssim:.4f}\n"
            f"  restored {result.output}: PSNR {result.restored_psnr:.2f} dB  SSIM {result.restored_ssim:.4f}  "
            f"({result.restored_psnr - result.degraded_psnr:+.2f} dB)\n"
            f"wrote {result.output}, {result.degraded} and the side-by-side {result.comparison} "
            "(degraded | restored | clean)",
            flush=True,
        )
