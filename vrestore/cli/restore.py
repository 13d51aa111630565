"""``vrestore restore``: restore one video, or a batch of them with one model."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from vrestore.batch import Shard, output_pairs
from vrestore.batch_restore import restore_many
from vrestore.cli import _console
from vrestore.cli._app import app
from vrestore.cli._batch_view import BatchView, first_failure_code
from vrestore.cli._errors import note_partial_kept
from vrestore.cli._options import (
    ENCODE,
    CacheDirOpt,
    ClipOpt,
    ClipOverlapOpt,
    CompileOpt,
    ContinueOnErrorOpt,
    DeviceOpt,
    DtypeOpt,
    JsonLinesOpt,
    ModelOpt,
    OutputDirOpt,
    OverwriteOpt,
    ProfileOpt,
    QuietOpt,
    RecursiveOpt,
    ResumeOpt,
    ShardOpt,
    SkipExistingOpt,
    TileOpt,
    TileOverlapOpt,
    WeightsOpt,
    encode_options,
)
from vrestore.cli._pipes import check_pipe_options
from vrestore.engine.smooth import check_strength
from vrestore.errors import PartialKept, UsageError
from vrestore.options import (
    DEFAULT_MODEL,
    DEFAULT_TILE_OVERLAP,
    ClipOptions,
    CutOptions,
    EncodeOptions,
    RestoreOptions,
    TileOptions,
)

DEFAULT_PREVIEW_FRAMES = 48

EXAMPLE = (
    "Example: vrestore restore old.mp4 old_clean.mp4 --model tiny.test --json\n\n"
    "Batch: vrestore restore clips/ more/*.mp4 -o restored/ --recursive --skip-existing --continue-on-error\n\n"
    "Inputs: any video PyAV decodes, a .y4m file, a folder or quoted glob of PNG/JPEG frames, '-' for stdin. "
    "Outputs: .mp4 .mkv .mov .webm, a folder (PNG frames), or '-' for y4m on stdout.\n\n"
    "Pipes: ffmpeg -i in.mp4 -f yuv4mpegpipe - | vrestore restore - - | ffmpeg -i - out.mp4"
)


@app.command(epilog=EXAMPLE)
@encode_options()
def restore(
    inputs: Annotated[
        list[Path],
        typer.Argument(help="Video file, .y4m, frame folder or quoted glob; then the output file or folder. "
                            "With -o: any number of files, folders of videos and globs.", show_default=False,
                       metavar="PATH"),
    ],
    output_dir: OutputDirOpt = None,
    model: ModelOpt = DEFAULT_MODEL,
    weights: WeightsOpt = None,
    cache_dir: CacheDirOpt = None,
    device: DeviceOpt = "auto",
    dtype: DtypeOpt = "auto",
    tile: TileOpt = None,
    tile_overlap: TileOverlapOpt = DEFAULT_TILE_OVERLAP,
    clip: ClipOpt = None,
    clip_overlap: ClipOverlapOpt = None,
    no_cut_detection: Annotated[
        bool, typer.Option("--no-cut-detection", help="Let temporal windows and recurrent state run across "
                           "scene cuts (by default hard cuts are detected and each shot is restored on its own).")
    ] = False,
    cuts: Annotated[
        Optional[str], typer.Option("--cuts", metavar="FRAMES", show_default=False,
                                    help="The scene cuts, as indices of the frames that start a new shot, e.g. "
                                         "120,340 (replaces detection).")
    ] = None,
    sigma: Annotated[
        Optional[str],
        typer.Option("--sigma", metavar="LEVEL|auto", show_default=False,
                     help="Noise level (0-255) for models that take one (rvrt.denoise-davis); default auto: "
                          "estimated from each temporal window (see vrestore analyze; --verbose prints it)."),
    ] = None,
    encode: EncodeOptions = ENCODE,
    temporal_smooth: Annotated[
        float, typer.Option("--temporal-smooth", metavar="STRENGTH",
                            help="Blend each output with the previous one where nothing moves "
                                 "(flicker reduction for per-frame models): strength 0 (off) to below 1, e.g. 0.5.")
    ] = 0.0,
    overwrite: OverwriteOpt = False,
    recursive: RecursiveOpt = False,
    skip_existing: SkipExistingOpt = False,
    resume: ResumeOpt = False,
    continue_on_error: ContinueOnErrorOpt = False,
    shard: ShardOpt = None,
    quiet: QuietOpt = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Also print informative lines on stderr (e.g. the noise "
                           "level estimated per window by --sigma auto).")
    ] = False,
    json_out: JsonLinesOpt = False,
    profile: ProfileOpt = False,
    compile: CompileOpt = False,
    preview: Annotated[
        int, typer.Option("--preview", min=0, metavar="N", help="First write <output>.preview.mp4: the first N "
                          "frames restored beside the input, to check settings quickly (0 = off).")
    ] = 0,
    preview_only: Annotated[
        bool, typer.Option("--preview-only", help="Write the --preview comparison and stop (no full run).")
    ] = False,
) -> None:
    """Restore videos, keeping their timing, colour, bit depth, rotation and audio."""
    from vrestore.models.registry import get_spec  # torch: only once a command runs, not for --help

    get_spec(model)  # an unknown id or a typo fails before any input is read
    check_strength(temporal_smooth)
    level = _sigma_value(sigma)
    options = RestoreOptions(
        model=model,
        weights=weights,
        device=device,
        dtype=dtype,
        tile=TileOptions(size=tile, overlap=tile_overlap),
        clip=ClipOptions(length=clip, overlap=clip_overlap),
        cuts=CutOptions(detect=not no_cut_detection, given=parse_cuts(cuts)),
        encode=encode,
        overwrite=overwrite,
        cache_dir=cache_dir,
        profile=profile,
        compile=compile,
        temporal_smooth=temporal_smooth,
        model_inputs={} if level is None else {"sigma": level},
        resume=resume,
    )
    if skip_existing and overwrite:
        raise UsageError("--skip-existing and --overwrite contradict each other; pass one of them")
    to_stdout = check_pipe_options(inputs, output_dir=output_dir, json_out=json_out, batch_options={
        "--resume": resume, "--skip-existing": skip_existing, "--recursive": recursive, "--shard": shard is not None,
        "--preview": preview > 0 or preview_only,
    })
    if preview_only and preview == 0:
        preview = DEFAULT_PREVIEW_FRAMES
    pairs = _pairs(inputs, output_dir, recursive=recursive)
    if shard is not None:
        pairs = Shard.parse(shard).select(pairs)
    _console.show_warnings(not quiet, verbose=verbose)
    with BatchView([source for source, _ in pairs], quiet=quiet, json_out=json_out,
                   report_to_stderr=to_stdout) as view:
        try:
            outcomes = restore_many(pairs, options, skip_existing=skip_existing, continue_on_error=continue_on_error,
                                    make_folders=output_dir is not None, preview=preview,
                                    preview_only=preview_only, events=view.events())
        except PartialKept as exc:
            note_partial_kept(str(exc))
            raise
        view.summary(outcomes)
    code = first_failure_code(outcomes)
    if code:
        raise typer.Exit(code)


def _sigma_value(text: str | None) -> float | str | None:
    """``--sigma``: None (the model's default), ``"auto"`` or a level from 0 to 255."""
    if text is None or text.strip().lower() == "auto":
        return None if text is None else "auto"
    try:
        level = float(text)
    except ValueError:
        raise UsageError(f"--sigma is a noise level from 0 to 255 or 'auto', got {text!r}") from None
    if not 0 <= level <= 255:
        raise UsageError(f"--sigma is a noise level from 0 to 255, got {level:g}")
    return level


def _pairs(inputs: list[Path], output_dir: Path | None, *, recursive: bool) -> list[tuple[Path, Path | None]]:
    """(input, output) pairs: ``IN [OUT]`` without -o (the original form), any inputs with -o."""
    if output_dir is None:
        if len(inputs) > 2:
            raise UsageError(
                f"{len(inputs)} inputs given without an output folder; pass -o FOLDER to restore several inputs"
            )
        return [(inputs[0], inputs[1] if len(inputs) == 2 else None)]
    return list(output_pairs(inputs, output_dir, recursive=recursive))


def parse_cuts(text: str | None) -> tuple[int, ...] | None:
    """``--cuts 120,340`` as sorted frame indices (None when not given); UsageError for anything else."""
    if text is None:
        return None
    try:
        cuts = [int(part) for part in text.replace(" ", "").split(",") if part]
    except ValueError:
        raise UsageError(f"--cuts takes frame indices separated by commas, e.g. 120,340; got {text!r}") from None
    if any(cut < 0 for cut in cuts):
        raise UsageError(f"--cuts takes frame indices (0 or more), got {text!r}")
    return tuple(sorted(set(cuts)))
