"""``vrestore synth``: degraded copies of clean videos (TUD protocol, explicit chains, weather), reproducible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from vrestore.batch import Shard
from vrestore.cli import _console
from vrestore.cli._app import app
from vrestore.cli._options import (
    ENCODE,
    JsonOpt,
    OverwriteOpt,
    QuietOpt,
    ShardOpt,
    encode_options,
)
from vrestore.errors import UsageError
from vrestore.options import TUD_PROB, EncodeOptions

EXAMPLE = (
    "Example: vrestore synth clean.mp4 degraded.mkv --protocol tud --interval 12 --seed 1\n\n"
    "Chains: --degrade 'gaussian:sigma=15' --degrade 'jpeg:quality=30' (in order). Degradations: gaussian "
    "(sigma), poisson (alpha), speckle (sigma), jpeg (quality), video (codec, bit_rate: intra-frame), blur "
    "(kernel, size, sigma_x, sigma_y, rotation, beta), resize (direction, scale, mode), compress (codec, crf: "
    "inter-frame, per --interval chunk). Weather: --weather rain|snow|haze --strength 0.5. "
    "Dataset mode: vrestore synth clean_root/ lq_root/ --interval 12 --workers 2 mirrors the folder of clips. "
    "Each output gets <output>.synth.json with the seed and every frame's drawn parameters."
)


@app.command(epilog=EXAMPLE)
@encode_options()
def synth(
    input: Annotated[Path, typer.Argument(metavar="INPUT", show_default=False,
                                          help="Clean video, frame folder, quoted glob, or a folder of clips.")],
    output: Annotated[Path, typer.Argument(metavar="OUTPUT", show_default=False,
                                           help="Output .mkv (lossless ffv1 by default), folder of PNG frames, "
                                                "or the output root in dataset mode.")],
    protocol: Annotated[Optional[str], typer.Option(
        "--protocol", metavar="NAME", help="tud (AverNet/PGDENet time-varying unknown degradations) or none "
                           "(default: tud unless --degrade/--weather).")] = None,
    schedule: Annotated[Optional[str], typer.Option(
        "--schedule", metavar="NAME",
        help="tud (new random pipeline every --interval frames, intensities per frame), fixed "
             "(one pipeline for the whole video) or ramp (intensity rising over time)")] = None,
    interval: Annotated[
        int, typer.Option("--interval", metavar="N", min=1, help="Frames per segment: 6, 12, 24 = T6/T12/T24.")
    ] = 12,
    prob: Annotated[float, typer.Option("--prob", metavar="P", min=0.0, max=1.0,
                                        help="Probability of leaving each type out of a segment.")] = TUD_PROB,
    degrade: Annotated[Optional[list[str]], typer.Option(
        "--degrade", metavar="SPEC",
        help="A degradation 'name:key=value,...'; repeat for a chain applied in order.")] = None,
    weather: Annotated[Optional[str], typer.Option("--weather", metavar="rain|snow|haze",
                                                   help="rain, snow or haze (applied first).")] = None,
    strength: Annotated[float, typer.Option("--strength", metavar="S", min=0.0, max=1.0,
                                            help="Weather strength 0..1.")] = 0.5,
    seed: Annotated[Optional[int], typer.Option("--seed", metavar="N", min=0, help="Random seed (default: a fresh one, "
                                                                       "recorded in the sidecar).")] = None,
    workers: Annotated[int, typer.Option("--workers", "-j", metavar="N", min=1, help="Clips processed in parallel "
                                                                        "(dataset mode).")] = 1,
    keep_ext: Annotated[bool, typer.Option("--keep-ext", help="Frame outputs keep the input's extension "
                                                              "(JPEG inputs then stay JPEG: lossy).")] = False,
    encode: EncodeOptions = ENCODE,
    overwrite: OverwriteOpt = False,
    quiet: QuietOpt = False,
    shard: ShardOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Make a degraded copy of a clean video (or of a dataset of clips) for training and testing."""
    from vrestore.synth_api import SynthOptions, is_dataset_root, synthesize, synthesize_dataset

    options = SynthOptions(
        protocol=protocol, schedule=schedule, interval=interval, prob=prob, degrade=tuple(degrade or ()),
        weather=weather, strength=strength, seed=seed,
        encode=encode,
        keep_ext=keep_ext, overwrite=overwrite, workers=workers,
        shard=None if shard is None else Shard.parse(shard),
    )
    _console.show_warnings(not quiet and not json_out)
    if options.shard is not None and not is_dataset_root(input):
        raise UsageError("--shard splits a dataset (a folder of clips); a single clip cannot be split")
    if is_dataset_root(input):
        def on_clip(result) -> None:
            if not quiet and not json_out:
                print(f"  {result.input} -> {result.output}: {result.frames} frames ({result.fps:.1f} fps)",
                      flush=True)

        summary = synthesize_dataset(input, output, options, on_clip=on_clip)
        if json_out:
            print(json.dumps(summary.to_dict()), flush=True)
        elif not quiet:
            print(f"synthesized {len(summary.clips)} clips, {summary.frames} frames in {summary.seconds:.1f} s "
                  f"-> {summary.output} (seed {summary.seed})", flush=True)
        return
    with _console.frame_progress(f"degrading {input.name}", None, enabled=not quiet and not json_out) as update:
        result = synthesize(input, output, options,
                            progress=_console.follow(update))
    if json_out:
        print(json.dumps(result.to_dict()), flush=True)
    elif not quiet:
        print(f"synthesized {result.input} -> {result.output}: {result.frames} frames in {result.seconds:.1f} s "
              f"({result.fps:.1f} fps, {result.protocol}/{result.schedule}, seed {result.seed}); "
              f"sidecar {result.sidecar}", flush=True)

