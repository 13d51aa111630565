"""Shared option declarations for the commands (one definition per option).

Every option that takes a value names it with ``metavar`` (``ID``, ``N``, ``FILE``, ``fp32|fp16|bf16``), and
an option whose default depends on the input says in its help what that default is (see ``_help.py``).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional, TypeVar

import typer

from vrestore.io.encode_plan import DEFAULT_CRF, DEFAULT_PRESET
from vrestore.options import EncodeOptions

Command = TypeVar("Command", bound=Callable[..., Any])

_CRF_DEFAULTS = ", ".join(f"{crf} for {codec}" for codec, crf in DEFAULT_CRF.items())

ModelOpt = Annotated[
    str, typer.Option("--model", "-m", metavar="ID", help="Model id 'arch.tag' or 'arch' (see 'vrestore models list').")
]
WeightsOpt = Annotated[
    Optional[Path],
    typer.Option("--weights", metavar="FILE", help="Use this checkpoint file instead of the registered weights."),
]
CacheDirOpt = Annotated[
    Optional[Path],
    typer.Option(
        "--cache-dir", metavar="FOLDER",
        help="Checkpoint cache folder (default: $VRESTORE_CACHE_DIR, else the user cache folder).",
    ),
]


def _device_option(help: str, metavar: str = "auto|cpu|cuda[:N]") -> Any:
    """``--device/-d``, declared once; each command says what runs there and, by its metavar, its default."""
    return typer.Option("--device", "-d", metavar=metavar, help=help)


DeviceOpt = Annotated[str, _device_option("Where the model runs (auto: CUDA when present, else the CPU).")]
EvalDeviceOpt = Annotated[
    str, _device_option("cpu (numpy/OpenCV; decoding dominates anyway), auto, cuda or cuda:N.", "cpu|auto|cuda[:N]")
]
TrainDeviceOpt = Annotated[Optional[str], _device_option("auto, cpu, cuda or cuda:N (overrides the recipe).")]
DtypeOpt = Annotated[
    str, typer.Option("--dtype", metavar="auto|fp32|fp16|bf16", help="Compute precision. auto: bf16 on CPUs with "
                      "fast bf16 (AVX512-BF16 or AMX) for models checked in bf16 (pgdenet), else fp32; --dtype fp32 "
                      "forces full precision. fp16/bf16 where the model supports them.")
]
TileOpt = Annotated[
    Optional[int],
    typer.Option(
        "--tile", min=0, metavar="N",
        help="Tile size in pixels (0 = whole frame; default: the model's; halves on GPU OOM).",
    ),
]
TileOverlapOpt = Annotated[
    int, typer.Option("--tile-overlap", min=0, metavar="N", help="Overlap between tiles in pixels.")
]
ClipOpt = Annotated[
    Optional[int],
    typer.Option("--clip", min=1, metavar="N",
                 help="Frames per temporal window (default: the model's; on the CPU as long as a quarter of the RAM "
                      "holds)."),
]
ClipOverlapOpt = Annotated[
    Optional[int],
    typer.Option("--clip-overlap", min=0, metavar="N",
                 help="Frames shared by neighbouring windows (default: the model's)."),
]
CodecOpt = Annotated[
    Optional[str],
    typer.Option("--codec", metavar="NAME", help="Video encoder: libx264, libx265, ffv1 (lossless), libvpx-vp9, ... "
                 "(default: libx264 for .mp4/.mov/.mkv, libx265 for 10-bit and deeper sources, libvpx-vp9 for .webm)"),
]
CrfOpt = Annotated[
    Optional[int],
    typer.Option("--crf", min=0, max=63, metavar="N",
                 help=f"Constant rate factor (lower = better, larger files; default: {_CRF_DEFAULTS})."),
]
PresetOpt = Annotated[
    Optional[str],
    typer.Option("--preset", metavar="NAME",
                 help=f"Encoder preset, e.g. medium, slow (default: {DEFAULT_PRESET} for libx264 and libx265)."),
]
PixFmtOpt = Annotated[
    Optional[str],
    typer.Option("--pix-fmt", metavar="FORMAT", help="Output pixel format, e.g. yuv420p10le (default: yuv420p, "
                 "10-bit for deeper sources, 4:4:4 for odd sizes and 4:4:4 sources; RGB with ffv1)."),
]
OverwriteOpt = Annotated[bool, typer.Option("--overwrite", "-y", help="Replace an existing output file.")]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success (errors still go to stderr).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object with the result on stdout.")]
ProfileOpt = Annotated[
    bool,
    typer.Option("--profile", help="Report seconds per stage (decode, upload, model, download, encode, idle)."),
]
CompileOpt = Annotated[
    bool,
    typer.Option("--compile", help="Compile the model with torch.compile (slow start; eager on failure)."),
]
JsonLinesOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON object per input file on stdout (JSON Lines).")
]
OutputDirOpt = Annotated[
    Optional[Path],
    typer.Option("--output-dir", "-o", metavar="FOLDER", help="Write every input's output into this folder (created "
                                                              "if missing); all positional arguments are then inputs."),
]
RecursiveOpt = Annotated[
    bool, typer.Option("--recursive", "-r", help="Take videos from subfolders of input folders too, and mirror "
                                                 "the subfolders under --output-dir.")
]
SkipExistingOpt = Annotated[
    bool, typer.Option("--skip-existing", help="Leave inputs whose output already exists (reported as skipped).")
]
ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Keep the partial output when interrupted (Ctrl-C, SIGTERM) and continue "
                       "a kept one: run the same command again to carry on (see README, Use in scripts).")
]
ContinueOnErrorOpt = Annotated[
    bool, typer.Option("--continue-on-error", "-k", help="Go on with the next input after a failed one; exit "
                                                         "with the code of the first failure at the end.")
]
ShardOpt = Annotated[
    Optional[str], typer.Option("--shard", metavar="K/N", help="Process only share K of N (e.g. 2/4) of the sorted "
                                                               "inputs: for job arrays and several GPUs.")
]

#: The default of a command's ``encode`` parameter, which ``encode_options`` replaces by the options.
ENCODE = EncodeOptions()


def encode_options(*, preset: bool = True) -> Callable[[Command], Command]:
    """Give a command --codec, --crf, --preset (unless ``preset`` is False) and --pix-fmt as one EncodeOptions.

    Typer reads a command's options from its signature, and signatures cannot share parameters: the
    command declares ``encode: EncodeOptions = ENCODE``, the wrapper's signature lists the options in its
    place (so --help keeps their order), and the command receives them as ``encode``.
    """
    fields = {"codec": CodecOpt, "crf": CrfOpt, "preset": PresetOpt, "pix_fmt": PixFmtOpt}
    if not preset:
        del fields["preset"]

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command, eval_str=True)
        params = []
        for param in signature.parameters.values():
            if param.name == "encode":
                params += [param.replace(name=name, annotation=kind, default=None) for name, kind in fields.items()]
            else:
                params.append(param)

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            encode = EncodeOptions(**{name: kwargs.pop(name) for name in fields})
            return command(**kwargs, encode=encode)

        wrapper.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate
