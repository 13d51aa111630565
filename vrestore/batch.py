"""Batches of inputs: expand files, folders and globs into jobs, name their outputs, split them into shards.

No decoding happens here; each job is later restored (or degraded) on its own, so one bad file cannot
stop the others. Outputs mirror the input names under an output folder (``--recursive`` keeps subfolders).
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from vrestore.errors import InputError, OutputError, UsageError
from vrestore.io.frames import IMAGE_SUFFIXES, looks_like_glob
from vrestore.io.info import VIDEO_SUFFIXES

#: Files a folder or glob contributes to a batch (other files, e.g. notes or sidecars, are ignored).
_KEEP_EXTENSIONS = (".mp4", ".mkv", ".mov", ".webm")
T = TypeVar("T")
P = TypeVar("P")


@dataclass(frozen=True)
class Job:
    """One input of a batch and its path relative to the output folder (without the output extension)."""

    source: Path
    relative: Path


@dataclass(frozen=True)
class Shard:
    """The K-th of N deterministic shares of a batch (K counts from 1)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """Parse ``K/N``; raise UsageError unless 1 <= K <= N."""
        try:
            k_text, n_text = text.split("/")
            index, count = int(k_text), int(n_text)
        except ValueError:
            raise UsageError(f"--shard {text!r}: expected K/N, e.g. 2/8") from None
        if count < 1 or not 1 <= index <= count:
            raise UsageError(f"--shard {text!r}: K must be between 1 and N, e.g. 1/{max(count, 1)}")
        return cls(index, count)

    def select(self, pairs: list[tuple[Path, P]]) -> list[tuple[Path, P]]:
        """The (input, output) pairs of this shard: sorted by input path, every N-th starting at K-1."""
        return self.pick(pairs, key=lambda pair: str(pair[0]))

    def pick(self, items: list[T], *, key: Callable[[T], str]) -> list[T]:
        """The items of this shard: sorted by ``key``, every N-th starting at K-1."""
        ordered = sorted(items, key=key)
        return [item for i, item in enumerate(ordered) if i % self.count == self.index - 1]


def expand_inputs(inputs: list[Path], *, recursive: bool = False) -> list[Job]:
    """Turn command-line inputs into jobs, in the given order (folders and globs sorted by name).

    A file is one job. A folder holding video files contributes each of them (and those of its
    subfolders with ``recursive``); a folder without videos is a frame folder, i.e. one job. A glob
    matching video files contributes each; a glob matching only images is one frame-sequence job.
    """
    jobs: list[Job] = []
    for item in inputs:
        text = os.fspath(item)
        if looks_like_glob(text) and not Path(text).exists():
            jobs.extend(_from_glob(text, recursive=recursive))
        elif Path(text).is_dir():
            jobs.extend(_from_folder(Path(text), recursive=recursive))
        else:
            path = Path(text)
            jobs.append(Job(path, Path(path.stem if path.suffix else path.name)))
    return jobs


def _from_glob(pattern: str, *, recursive: bool) -> list[Job]:
    matches = sorted(Path(p) for p in glob.glob(pattern, recursive=recursive))
    videos = [p for p in matches if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES]
    if videos:
        return [Job(p, Path(p.stem)) for p in videos]
    if any(p.suffix.lower() in IMAGE_SUFFIXES for p in matches):
        parent = Path(pattern).parent
        return [Job(Path(pattern), Path(parent.name or "frames"))]
    raise InputError(f"input pattern {pattern!r} matches no video or image file")


def _from_folder(folder: Path, *, recursive: bool) -> list[Job]:
    walk = folder.rglob("*") if recursive else folder.iterdir()
    videos = sorted(
        p for p in walk
        if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".")
    )
    if not videos:
        return [Job(folder, Path(folder.name))]  # a frame folder; the reader reports it if it is not one
    return [Job(p, p.relative_to(folder).with_suffix("")) for p in videos]


def output_pairs(inputs: list[Path], output_dir: Path, *, recursive: bool = False) -> list[tuple[Path, Path]]:
    """(input, output) for every input under ``output_dir`` (see :func:`expand_inputs` and :func:`output_path`).

    UsageError when two inputs would write the same output.
    """
    pairs = [(job.source, output_path(job, output_dir, frames=_is_frames(job.source)))
             for job in expand_inputs(inputs, recursive=recursive)]
    check_distinct([out for _, out in pairs])
    return pairs


def _is_frames(source: Path) -> bool:
    return source.is_dir() or looks_like_glob(str(source)) and not source.exists()


def output_path(job: Job, out_dir: Path, *, frames: bool) -> Path:
    """Where ``job`` goes under ``out_dir``: same name, .mkv for containers we do not write, a folder for frames."""
    if frames:
        return out_dir / job.relative
    suffix = job.source.suffix.lower()
    return out_dir / job.relative.with_name(job.relative.name + (suffix if suffix in _KEEP_EXTENSIONS else ".mkv"))


def check_distinct(outputs: list[Path]) -> None:
    """Raise UsageError when two jobs would write the same output."""
    seen: dict[Path, int] = {}
    for i, path in enumerate(outputs):
        key = path.absolute()
        if key in seen:
            raise UsageError(f"two inputs would both be written to {path}; use --recursive or rename one")
        seen[key] = i


def make_parent(path: Path) -> None:
    """Create the folder that will hold ``path``; OutputError when that is impossible."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create output folder {path.parent}: {exc.strerror or exc}") from None
