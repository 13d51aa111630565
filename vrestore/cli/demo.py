"""``vrestore demo``: restore the bundled example clip, to see the tool work in one command."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Annotated, Optional

import typer

from vrestore.cli import _console
from vrestore.cli._app import app
from vrestore.cli._options import DeviceOpt, JsonOpt, QuietOpt
from vrestore.cli.restore import run_restore
from vrestore.options import RestoreOptions

DEMO_CLIP = "chaplin-oldfilm-360p.mp4"
DEMO_OUTPUT = Path("vrestore-demo.mp4")


def demo_clip() -> Path:
    """Path of the bundled example clip."""
    return Path(str(resources.files("vrestore") / "data" / DEMO_CLIP))


def demo_model() -> tuple[str, str]:
    """The model the demo uses and why: the default model when its weights are available, else tiny.test."""
    from vrestore.models import DEFAULT_MODEL
    from vrestore.models.registry import get_spec, is_registered

    if is_registered(DEFAULT_MODEL) and get_spec(DEFAULT_MODEL).weights is None:
        return DEFAULT_MODEL, "the default model"
    return "tiny.test", f"tiny.test, because the default model '{DEFAULT_MODEL}' has no bundled weights yet"


@app.command(epilog="Example: vrestore demo   (writes ./vrestore-demo.mp4)")
def demo(
    output: Annotated[
        Optional[Path], typer.Argument(help="Where to write the restored clip.", show_default=False)
    ] = None,
    device: DeviceOpt = "auto",
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Restore the bundled example clip (a 10-second archival film) with the bundled model."""
    model_id, why = demo_model()
    destination = output or DEMO_OUTPUT
    if not quiet and not json_out:
        _console.stderr.print(f"demo: restoring the bundled clip {DEMO_CLIP} with {why}", highlight=False)
    # The demo may replace its own default output from a previous run, never a file the user named.
    options = RestoreOptions(model=model_id, device=device, overwrite=output is None)
    run_restore(demo_clip(), destination, options, quiet=quiet, json_out=json_out)
