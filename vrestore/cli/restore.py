"""``vrestore restore``: restore one video."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from vrestore.cli import _console
from vrestore.cli._app import app
from vrestore.cli._options import (
    CacheDirOpt,
    ClipOpt,
    ClipOverlapOpt,
    CodecOpt,
    CompileOpt,
    CrfOpt,
    DeviceOpt,
    DtypeOpt,
    JsonOpt,
    ModelOpt,
    OverwriteOpt,
    PixFmtOpt,
    PresetOpt,
    ProfileOpt,
    QuietOpt,
    TileOpt,
    TileOverlapOpt,
    WeightsOpt,
)
from vrestore.engine.smooth import check_strength
from vrestore.errors import UsageError
from vrestore.options import ClipOptions, EncodeOptions, RestoreOptions, TileOptions

EXAMPLE = (
    "Example: vrestore restore old.mp4 old_clean.mp4 --model tiny.test --json\n\n"
    "Inputs: any video PyAV decodes, a .y4m file, a folder or quoted glob of PNG/JPEG frames. "
    "Outputs: .mp4 .mkv .mov .webm, or a folder (PNG frames)."
)


@app.command(epilog=EXAMPLE)
def restore(
    input: Annotated[Path, typer.Argument(help="Video file, .y4m, frame folder or quoted glob.", show_default=False)],
    output: Annotated[
        Optional[Path], typer.Argument(help="Output file or folder (default: <stem>_restored.<ext> beside the input).",
                                       show_default=False)
    ] = None,
    model: ModelOpt = "pgdenet",
    weights: WeightsOpt = None,
    cache_dir: CacheDirOpt = None,
    device: DeviceOpt = "auto",
    dtype: DtypeOpt = "fp32",
    tile: TileOpt = None,
    tile_overlap: TileOverlapOpt = 16,
    clip: ClipOpt = None,
    clip_overlap: ClipOverlapOpt = None,
    sigma: Annotated[
        Optional[float],
        typer.Option("--sigma", show_default=False,
                     help="Noise level (0-255) for models that take one (rvrt.denoise-davis, default 30)."),
    ] = None,
    codec: CodecOpt = None,
    crf: CrfOpt = None,
    preset: PresetOpt = None,
    pix_fmt: PixFmtOpt = None,
    temporal_smooth: Annotated[
        float, typer.Option("--temporal-smooth", help="Blend each output with the previous one where nothing moves "
                            "(flicker reduction for per-frame models): strength 0 (off) to below 1, e.g. 0.5.")
    ] = 0.0,
    overwrite: OverwriteOpt = False,
    quiet: QuietOpt = False,
    json_out: JsonOpt = False,
    profile: ProfileOpt = False,
    compile: CompileOpt = False,
) -> None:
    """Restore a video, keeping its timing, colour, bit depth, rotation and audio."""
    check_strength(temporal_smooth)
    if sigma is not None and not 0 <= sigma <= 255:
        raise UsageError(f"--sigma is a noise level from 0 to 255, got {sigma:g}")
    options = RestoreOptions(
        model=model,
        weights=weights,
        device=device,
        dtype=dtype,
        tile=TileOptions(size=tile, overlap=tile_overlap),
        clip=ClipOptions(length=clip, overlap=clip_overlap),
        encode=EncodeOptions(codec=codec, crf=crf, preset=preset, pix_fmt=pix_fmt),
        overwrite=overwrite,
        cache_dir=cache_dir,
        profile=profile,
        compile=compile,
        temporal_smooth=temporal_smooth,
        model_inputs={} if sigma is None else {"sigma": sigma},
    )
    run_restore(input, output, options, quiet=quiet, json_out=json_out)


def run_restore(
    source: Path, destination: Path | None, options: RestoreOptions, *, quiet: bool, json_out: bool
) -> None:
    """Run one restore with progress and print the result (shared by ``restore`` and ``demo``)."""
    from vrestore.api import restore_video

    _console.show_warnings(not quiet)
    _prefetch_weights(options, quiet=quiet)
    with _console.frame_progress(f"restoring {source.name}", None, enabled=not quiet) as update:
        result = restore_video(
            source, destination, options, progress=lambda p: update(p.frames_done, p.frames_total, p.elapsed_s)
        )
    if json_out:
        print(json.dumps(result.to_dict()), flush=True)
    elif not quiet:
        print(
            f"restored {result.input} -> {result.output}: {result.frames} frames in {result.seconds:.1f} s "
            f"({result.fps:.1f} fps, model {result.model} on {result.device})",
            flush=True,
        )
        if result.profile is not None:
            print(_console.profile_line(result.profile), flush=True)


def _prefetch_weights(options: RestoreOptions, *, quiet: bool) -> None:
    """Download the model's checkpoint with a progress bar before the restore (which then finds it cached)."""
    from vrestore.models.registry import get_spec, is_registered

    if options.weights is not None or not is_registered(options.model):
        return  # a local file, or an unknown id that restore_video reports properly
    key = get_spec(options.model).weights
    if key is None:
        return
    from vrestore.cli.models import download_bar
    from vrestore.weights.store import Store

    store = Store(options.cache_dir)
    if store.cached(key) is None:
        with download_bar(not quiet) as update:
            store.fetch(key, progress=update, label=get_spec(options.model).id)
