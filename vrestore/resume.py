"""What ``restore --resume`` keeps of an interrupted run: the partial output and a small JSON state beside it.

For an output ``dir/out.mkv``:

- ``dir/.out.mkv.part.mkv``: the partial output, a finished container of the first ``frames_done`` frames;
- ``dir/.out.mkv.part.mkv.json``: :class:`ResumeState` (model, the options that shape the output and their
  checksum, the input's identity, the tile/clip sizes the run used, frames done);
- ``dir/.out.mkv.next.mkv``: a resumed run's output while it is written. It is renamed onto the
  destination when complete, or onto the part when interrupted again with more frames than the part.

The state is written atomically after the part is finished, so a state always describes a complete part.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from vrestore.errors import UsageError
from vrestore.io.output_check import temp_path_for
from vrestore.options import RestoreOptions

log = logging.getLogger("vrestore")

STATE_VERSION = 2  # 2: scene cuts (``cuts``), which change where windows start


@dataclass(frozen=True)
class ResumeState:
    """The JSON sidecar of a partial output."""

    model: str
    options: dict[str, Any]
    checksum: str
    input: dict[str, Any]
    sizes: dict[str, Any]
    frames_done: int
    cuts: list[int] = field(default_factory=list)  # the shots' starts before ``frames_done``
    version: int = STATE_VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True)


def part_path(destination: Path) -> Path:
    """The partial output kept for resuming (the writer's usual temp file)."""
    return temp_path_for(destination)


def state_path(destination: Path) -> Path:
    """The JSON state beside the partial output."""
    part = part_path(destination)
    return part.with_name(part.name + ".json")


def next_path(destination: Path) -> Path:
    """Where a resumed run writes until it is complete (the part stays intact meanwhile)."""
    return destination.with_name(f".{destination.name}.next{destination.suffix}")


def output_options(options: RestoreOptions, *, model: str, device: str, dtype: str) -> dict[str, Any]:
    """The options that shape the output, as plain JSON (queue size, cache, profiling and overwrite do not).

    ``model``, ``device`` and ``dtype`` are the resolved ones (what ``auto`` picked), not the options' words.
    """
    weights = None
    if options.weights is not None:
        path = Path(options.weights)
        weights = {"path": str(path.resolve()), "size": path.stat().st_size if path.exists() else None}
    values = {
        "model": model,
        "weights": weights,
        "device": device,
        "dtype": dtype,
        "tile": asdict(options.tile),
        "clip": asdict(options.clip),
        "cuts": asdict(options.cuts),
        "encode": asdict(options.encode),
        "model_inputs": {key: options.model_inputs[key] for key in sorted(options.model_inputs)},
        "temporal_smooth": options.temporal_smooth,
        "compile": options.compile,
    }
    return json.loads(json.dumps(values, default=str))  # as it reads back from the state file


def checksum(values: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of ``values``."""
    text = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def input_identity(source: Path) -> dict[str, Any]:
    """Path, size and modification time of the input (a changed input cannot be continued).

    A frame folder's modification time changes when frames are added or removed; a glob has only its text.
    """
    path = Path(source)
    if not path.exists():
        return {"path": str(path.absolute()), "size": None, "mtime_ns": None}
    stat = path.stat()
    return {"path": str(path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def load(destination: Path) -> ResumeState | None:
    """The state kept for ``destination``, or None when there is none (or no part beside it)."""
    path = state_path(destination)
    if not path.is_file():
        return None
    if not part_path(destination).is_file():
        log.warning("%s has no partial output beside it; starting from the beginning", path)
        return None
    try:
        data = json.loads(path.read_text())
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"version {data.get('version')}")
        return ResumeState(**data)
    except (OSError, ValueError, TypeError) as exc:
        log.warning("cannot read the resume state %s (%s); starting from the beginning", path, exc)
        return None


def save(destination: Path, state: ResumeState) -> None:
    """Write the state atomically (a temp file renamed over it)."""
    path = state_path(destination)
    temp = path.with_name(path.name + ".tmp")
    temp.write_text(state.to_json())
    os.replace(temp, path)


def discard(destination: Path, *, part: bool = True) -> None:
    """Remove the state (and the partial output unless ``part`` is False)."""
    paths = [state_path(destination)] + ([part_path(destination)] if part else [])
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            log.warning("could not remove %s: %s", path, exc)


def check_matches(state: ResumeState, destination: Path, options: dict[str, Any], source: dict[str, Any]) -> None:
    """UsageError unless ``state`` was made from the same input with the same output options."""
    how = (f"run without --resume to start over (this replaces {part_path(destination).name}), "
           "or repeat the original options")
    if state.input != source:
        raise UsageError(f"cannot resume {destination}: the input {source['path']} changed since the "
                         f"interrupted run; {how}")
    if state.checksum != checksum(options) or state.options != options:
        changed = sorted(key for key in set(options) | set(state.options)
                         if options.get(key) != state.options.get(key))
        raise UsageError(f"cannot resume {destination}: it was started with other options "
                         f"({', '.join(changed) or 'checksum'} differ); {how}")
