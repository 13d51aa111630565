"""Training checkpoints (everything needed to resume exactly) and exported weights (EMA only).

Both are written to a temporary name and renamed, so a crash never leaves a half-written file, and both
load with ``weights_only=True``: they hold only tensors, numbers, strings, lists and dicts.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from vrestore.errors import UsageError

FORMAT = 1


def save_atomic(obj: Any, path: Path) -> None:
    """``torch.save`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.part")
    try:
        torch.save(obj, temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A training checkpoint written by :func:`save_atomic` from the training loop."""
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UsageError(f"training checkpoint '{path}' does not exist") from None
    except Exception as exc:  # torch raises several types for a damaged or foreign file
        raise UsageError(f"'{path}' is not a readable vrestore training checkpoint ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or "ema" not in data:
        raise UsageError(f"'{path}' is not a vrestore training checkpoint (made by 'vrestore train')")
    return data


@dataclass(frozen=True)
class ExportedFile:
    """One file written by :func:`export_weights`: where, its full sha256 and size, and the tensors it holds
    (``prefix``: the names that start with it; "" for the main file, which holds the rest)."""

    path: Path
    sha256: str
    size: int
    prefix: str = ""


def export_weights(
    checkpoint: Path, destination: Path, dtype: str = "fp16", parts: Mapping[str, Path] | None = None
) -> list[ExportedFile]:
    """Write the EMA weights of ``checkpoint`` as ``{'params': state}`` in ``dtype``.

    ``parts`` maps a name prefix (e.g. ``"spynet."``) to a file of its own: the tensors named so go there
    (the ``parts`` of a weights.toml entry), the rest to ``destination``. Returns the main file first.
    """
    if dtype not in ("fp16", "fp32"):
        raise UsageError(f"export dtype '{dtype}' is unknown; use fp16 or fp32")
    parts = dict(parts or {})
    targets = [destination, *parts.values()]
    if any(t.resolve() == checkpoint.resolve() for t in targets):
        raise UsageError("the export destination is the checkpoint itself; choose another file name")
    if len({t.resolve() for t in targets}) != len(targets):
        raise UsageError("each exported part needs a file of its own; choose different file names")
    data = load_checkpoint(checkpoint)
    target = torch.float16 if dtype == "fp16" else torch.float32
    state = {k: (v.to(target) if v.is_floating_point() else v).contiguous() for k, v in data["ema"].items()}
    split: dict[str, dict[str, torch.Tensor]] = {"": {}, **{prefix: {} for prefix in parts}}
    for name, tensor in state.items():  # each tensor into one file: the first prefix it starts with, else the main
        split[next((prefix for prefix in parts if name.startswith(prefix)), "")][name] = tensor
    for prefix in parts:
        if not split[prefix]:
            raise UsageError(f"no tensor of {data['config']['model']} starts with '{prefix}'; check the --part prefix")
    files = [(destination, "", split[""]), *((parts[prefix], prefix, split[prefix]) for prefix in parts)]
    written = []
    for path, prefix, tensors in files:
        save_atomic({"params": tensors, "model": data["config"]["model"], "step": data["step"]}, path)
        written.append(ExportedFile(path, hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size, prefix))
    return written
