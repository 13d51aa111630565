"""Where an output may go: container by extension, PNG folders, temp names, and the checks run before decoding."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from vrestore.errors import OutputError
from vrestore.io.encode_plan import CONTAINERS, EncodePlan, plan_encoding
from vrestore.io.info import VideoInfo
from vrestore.io.pipe_writer import pipe_pix_fmt
from vrestore.io.stdio import is_stdio
from vrestore.options import EncodeOptions


def is_frame_folder(destination: Path | str) -> bool:
    """True when ``destination`` names a PNG folder: a trailing '/', no suffix, or an existing directory
    whose suffix is not a video container's."""
    text = os.fspath(destination)
    if is_stdio(text):
        return False
    if text.endswith(("/", os.sep)):
        return True
    path = Path(text)
    if path.suffix.lower() in CONTAINERS:
        return False
    return path.suffix == "" or path.is_dir()


def temp_path_for(destination: Path) -> Path:
    """The temporary file written before the final rename: ``dir/.<name>.part<ext>``."""
    return destination.with_name(f".{destination.name}.part{destination.suffix}")


@dataclass(frozen=True)
class OutputTarget:
    """A destination that passed :func:`check_output`, with what its writer needs (``writer.open_checked``).

    ``plan`` is the encoding of a video file and ``pix_fmt`` the y4m layout of stdout, when the check was
    given the source and the encode options; a PNG folder has neither.
    """

    destination: Path | str
    width: int
    height: int
    plan: EncodePlan | None = None
    pix_fmt: str | None = None


def check_output(
    destination: Path | str,
    source: VideoInfo | None,
    *,
    overwrite: bool,
    encode: EncodeOptions | None = None,
    size: tuple[int, int] | None = None,
) -> OutputTarget:
    """Fail early (before any decoding) with OutputError when ``destination`` cannot be written.

    Checks: same file as the source (refused even with ``overwrite``), already exists without
    ``overwrite``, parent folder missing or not writable, unsupported extension. With ``encode`` (and the
    output ``size`` as (width, height), default the source's) it also validates the codec and pix_fmt
    choice, raising UsageError / OutputError. ``-`` (stdout) only checks the y4m pixel format.
    """
    width, height = size or ((source.width, source.height) if source is not None else (0, 0))
    if is_stdio(destination):
        pix_fmt = None
        if encode is not None and source is not None:
            pix_fmt = pipe_pix_fmt(source, encode, width=width, height=height)
        return OutputTarget(destination, width, height, pix_fmt=pix_fmt)
    folder = is_frame_folder(destination)
    dest = Path(destination)
    if source is not None and _same_path(dest, Path(source.source)):
        raise OutputError(f"output {dest} is the input file; choose another output name (inputs are never overwritten)")
    if not folder and dest.suffix.lower() not in CONTAINERS:
        supported = " ".join(CONTAINERS)
        raise OutputError(
            f"output {dest}: unsupported extension {dest.suffix!r}; "
            f"use one of {supported} or a folder name for PNG frames"
        )
    _check_existing(dest, folder=folder, overwrite=overwrite)
    _check_parent(dest)
    plan = None
    if encode is not None and not folder and source is not None:
        plan = plan_encoding(dest, source, encode, width=width, height=height)
    return OutputTarget(destination, width, height, plan=plan)


def _same_path(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are the same file (symlinks and relative paths resolved)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _check_existing(dest: Path, *, folder: bool, overwrite: bool) -> None:
    if not (dest.exists() or dest.is_symlink()):
        return
    if folder:
        if not overwrite:
            raise OutputError(f"output {dest} exists; pass --overwrite or choose another name")
        return
    if dest.is_dir():
        raise OutputError(f"output {dest} is a directory; choose a file name such as {dest / 'restored.mp4'}")
    if not overwrite:
        raise OutputError(f"output {dest} exists; pass --overwrite or choose another name")


def _check_parent(dest: Path) -> None:
    parent = dest.absolute().parent
    if not parent.is_dir():
        raise OutputError(f"output {dest}: folder {parent} does not exist; create it first or choose another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"output {dest}: folder {parent} is not writable; choose another folder")
