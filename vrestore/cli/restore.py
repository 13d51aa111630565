"""``vrestore restore``: restore one video, or a batch of them with one model."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional, TextIO

import typer

from vrestore.batch import Job, Outcome, Shard, check_distinct, expand_inputs, make_parent, output_path
from vrestore.cli import _console
from vrestore.cli._app import app
from vrestore.cli._console import error_line
from vrestore.cli._errors import EXIT_OK, exit_code_for, note_partial_kept
from vrestore.cli._options import (
    CacheDirOpt,
    ClipOpt,
    ClipOverlapOpt,
    CodecOpt,
    CompileOpt,
    ContinueOnErrorOpt,
    CrfOpt,
    DeviceOpt,
    DtypeOpt,
    JsonLinesOpt,
    ModelOpt,
    OutputDirOpt,
    OverwriteOpt,
    PixFmtOpt,
    PresetOpt,
    ProfileOpt,
    QuietOpt,
    RecursiveOpt,
    ResumeOpt,
    ShardOpt,
    SkipExistingOpt,
    TileOpt,
    TileOverlapOpt,
    WeightsOpt,
)
from vrestore.cli._pipes import check_pipe_options
from vrestore.engine.smooth import check_strength
from vrestore.errors import PartialKept, UsageError, VrestoreError
from vrestore.io.frames import looks_like_glob
from vrestore.io.stdio import is_stdio
from vrestore.models.registry import DEFAULT_MODEL, get_spec, resolve_id
from vrestore.options import DEFAULT_TILE_OVERLAP, ClipOptions, CutOptions, EncodeOptions, RestoreOptions, TileOptions

if TYPE_CHECKING:
    from vrestore.models import LoadedModel

DEFAULT_PREVIEW_FRAMES = 48

EXAMPLE = (
    "Example: vrestore restore old.mp4 old_clean.mp4 --model tiny.test --json\n\n"
    "Batch: vrestore restore clips/ more/*.mp4 -o restored/ --recursive --skip-existing --continue-on-error\n\n"
    "Inputs: any video PyAV decodes, a .y4m file, a folder or quoted glob of PNG/JPEG frames, '-' for stdin. "
    "Outputs: .mp4 .mkv .mov .webm, a folder (PNG frames), or '-' for y4m on stdout.\n\n"
    "Pipes: ffmpeg -i in.mp4 -f yuv4mpegpipe - | vrestore restore - - | ffmpeg -i - out.mp4"
)


@app.command(epilog=EXAMPLE)
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
    codec: CodecOpt = None,
    crf: CrfOpt = None,
    preset: PresetOpt = None,
    pix_fmt: PixFmtOpt = None,
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
        encode=EncodeOptions(codec=codec, crf=crf, preset=preset, pix_fmt=pix_fmt),
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
        pairs = _shard_pairs(pairs, Shard.parse(shard))
    run_batch(pairs, options, quiet=quiet, json_out=json_out, skip_existing=skip_existing,
              continue_on_error=continue_on_error, make_folders=output_dir is not None,
              preview=preview, preview_only=preview_only, report_to_stderr=to_stdout, verbose=verbose)


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
    jobs = expand_inputs(inputs, recursive=recursive)
    pairs: list[tuple[Path, Path | None]] = [
        (job.source, output_path(job, output_dir, frames=_is_frames(job.source))) for job in jobs
    ]
    check_distinct([out for _, out in pairs if out is not None])
    return pairs


def _is_frames(source: Path) -> bool:
    return source.is_dir() or looks_like_glob(str(source)) and not source.exists()


def _shard_pairs(pairs: list[tuple[Path, Path | None]], shard: Shard) -> list[tuple[Path, Path | None]]:
    by_source = {str(src): (src, dst) for src, dst in pairs}
    jobs = shard.select([Job(src, Path(src.name)) for src, _ in pairs])
    return [by_source[str(job.source)] for job in jobs]


def run_restore(
    source: Path, destination: Path | None, options: RestoreOptions, *, quiet: bool, json_out: bool
) -> None:
    """Run one restore with progress and print the result (``demo`` uses it)."""
    run_batch([(source, destination)], options, quiet=quiet, json_out=json_out)


def run_batch(
    pairs: list[tuple[Path, Path | None]],
    options: RestoreOptions,
    *,
    quiet: bool,
    json_out: bool,
    skip_existing: bool = False,
    continue_on_error: bool = False,
    make_folders: bool = False,
    preview: int = 0,
    preview_only: bool = False,
    report_to_stderr: bool = False,
    verbose: bool = False,
) -> None:
    """Restore each (input, output) pair with one model; report each file; exit with the first failure's code.

    Without ``continue_on_error`` the first failure stops the batch (its error goes to ``main``). Errors of
    loading the model stop the batch always, since they would repeat for every file. ``make_folders``
    creates each output's folder (batches into -o FOLDER mirror subfolders). ``preview`` > 0 first writes
    ``<output>.preview.mp4`` (the first ``preview`` frames, input beside restored); ``preview_only`` stops there.
    ``report_to_stderr`` prints the result lines on stderr (stdout carries the video).
    """
    from vrestore.api import Restorer

    _console.show_warnings(not quiet, verbose=verbose)
    _prefetch_weights(options, quiet=quiet or json_out)
    # On a terminal the model and weights are named before a possibly long run; elsewhere stderr stays for
    # warnings and the one error line, and the result line (or --json) names them.
    announce = not quiet and not json_out and _console.stderr.is_terminal
    restorer = Restorer(options, on_start=_say_model if announce else None)
    outcomes: list[Outcome] = []
    first_code = EXIT_OK
    for number, (source, destination) in enumerate(pairs, 1):
        if skip_existing and destination is not None and destination.exists():
            outcomes.append(Outcome("skipped", str(source), str(destination)))
            _report(outcomes[-1], quiet=quiet, json_out=json_out)
            continue
        label = f"restoring {source.name}" + (f" ({number}/{len(pairs)})" if len(pairs) > 1 else "")
        try:
            if make_folders and destination is not None:
                make_parent(destination)
            if preview:
                shown = _preview(restorer, source, destination, preview, quiet=quiet or json_out)
                if preview_only:
                    outcomes.append(Outcome("preview", str(source), shown.output, shown.frames, shown.seconds))
                    _report(outcomes[-1], quiet=quiet, json_out=json_out)
                    continue
            with _console.frame_progress(label, None, enabled=not quiet and not json_out) as update:
                result = restorer.restore(source, destination, progress=lambda p: update(
                    p.frames_done, p.frames_total, p.elapsed_s, p.frames_computed))
        except PartialKept as exc:
            note_partial_kept(str(exc))
            raise
        except VrestoreError as exc:
            code = exit_code_for(exc)
            failed = Outcome("failed", str(source), None if destination is None else str(destination),
                             code=code, error=str(exc))
            if json_out:
                print(json.dumps(failed.to_dict()), flush=True)
            if not continue_on_error or restorer.load_failed or len(pairs) == 1:
                raise
            error_line(f"{source}: {exc}")
            outcomes.append(failed)
            first_code = first_code or code
            continue
        done = Outcome("ok", result.input, result.output, result.frames, result.seconds, details=result.to_dict())
        outcomes.append(done)
        _report(done, quiet=quiet, json_out=json_out, result=result, file=sys.stderr if report_to_stderr else None)
    if len(pairs) > 1 and not quiet and not json_out:
        counts = {status: sum(o.status == status for o in outcomes) for status in ("ok", "skipped", "failed")}
        print(f"{counts['ok']} restored, {counts['skipped']} skipped, {counts['failed']} failed", flush=True)
    if first_code:
        raise typer.Exit(first_code)


def _say_model(loaded: LoadedModel) -> None:
    """One stderr line naming the model and the weights file a run uses (the default model is not obvious)."""
    default = " (the default model; --model picks another)" if loaded.spec.id == resolve_id(DEFAULT_MODEL) else ""
    weights = loaded.weights.describe() if loaded.weights is not None else "weights not recorded"
    _console.stderr.print(f"using {loaded.spec.id}{default} with {weights}", markup=False, highlight=False)


def _weights_note(weights: dict | None) -> str:
    if not weights or weights.get("file") is None:
        return ""
    return f", weights {Path(weights['file']).name} sha256 {weights['sha256']}"


def _report(outcome: Outcome, *, quiet: bool, json_out: bool, result=None, file: TextIO | None = None) -> None:
    if json_out:
        print(json.dumps(outcome.to_dict()), flush=True)
    elif quiet:
        return
    elif result is not None:
        print(
            f"restored {_shown(result.input, 'stdin')} -> {_shown(result.output, 'stdout')}: "
            f"{result.frames} frames in {result.seconds:.1f} s "
            f"({result.fps:.1f} fps, model {result.model} on {result.device}{_weights_note(result.weights)})",
            file=file, flush=True,
        )
        if result.profile is not None:
            print(_console.profile_line(result.profile), file=file, flush=True)
    elif outcome.status == "preview":
        return  # _preview said where it wrote
    else:
        print(f"skipped {outcome.input}: {outcome.output} exists", flush=True)


def _shown(path: str, stdio: str) -> str:
    return stdio if is_stdio(path) else path


def _preview(restorer, source: Path, destination: Path | None, frames: int, *, quiet: bool):
    """Write the side-by-side preview of ``source``'s first ``frames`` frames; returns its CompareResult."""
    from vrestore.api import default_output_path
    from vrestore.compare.preview import preview_path, write_preview
    from vrestore.io.probe import probe

    target = preview_path(destination if destination is not None else default_output_path(source, probe(source)))
    result = write_preview(source, target, restorer.model, restorer.options, frames)
    if not quiet:
        print(f"preview of {source.name}: {result.output} ({result.frames} frames, input | restored)", flush=True)
    return result


def _prefetch_weights(options: RestoreOptions, *, quiet: bool) -> None:
    """Download the model's checkpoint with a progress bar before the restore (which then finds it cached)."""
    from vrestore.models.registry import is_registered

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
