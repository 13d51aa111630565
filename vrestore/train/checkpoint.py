"""Training checkpoints (everything needed to resume exactly) and exported weights (EMA only).

Both are written to a temporary name and renamed, so a crash never leaves a half-written file, and both
load with ``weights_only=True``: they hold only tensors, numbers, strings, lists and dicts.
"""

from __future__ import annotations

import hashlib
import os
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


def export_weights(checkpoint: Path, destination: Path, dtype: str = "fp16") -> tuple[str, int]:
    """Write the EMA weights of ``checkpoint`` as ``{'params': state}`` in ``dtype``; returns (sha256, size)."""
    if dtype not in ("fp16", "fp32"):
        raise UsageError(f"export dtype '{dtype}' is unknown; use fp16 or fp32")
    if destination.resolve() == checkpoint.resolve():
        raise UsageError("the export destination is the checkpoint itself; choose another file name")
    data = load_checkpoint(checkpoint)
    target = torch.float16 if dtype == "fp16" else torch.float32
    state = {k: (v.to(target) if v.is_floating_point() else v).contiguous() for k, v in data["ema"].items()}
    save_atomic({"params": state, "model": data["config"]["model"], "step": data["step"]}, destination)
    digest = hashlib.sha256(destination.read_bytes()).hexdigest()
    return digest, destination.stat().st_size
