"""Read checkpoint files safely and put their tensors into a module.

Checkpoints are loaded with ``weights_only=True``, which unpickles only tensors and plain containers. A file
it refuses is either no checkpoint at all (a video, a text file, a truncated download) or a checkpoint
that pickles Python objects (a whole model, a training config), which could run code when loaded: the
two get different messages, since only the second can be fixed by re-saving its state dict.
"""

from __future__ import annotations

import hashlib
import io
import pickle
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
from torch import nn

from vrestore.errors import WeightsError

if TYPE_CHECKING:
    from vrestore.weights.store import Store

# Containers used by the official training frameworks (BasicSR, MMEditing, Lightning), in preference order.
_CONTAINER_KEYS = ("params_ema", "params", "state_dict", "model", "generator", "net")
_PREFIXES = ("module.", "generator.", "net.", "model.")
# MMEditing restorers keep the network under ``generator.`` beside other parts (``step_counter``, a
# discriminator, loss networks): when some names carry it, only those belong to the network.
_SUBMODULE_PREFIXES = ("generator.",)


def read_state_dict(path: Path, key: str | None = None, *, prefer: str | None = None) -> dict[str, torch.Tensor]:
    """Load ``path`` with ``weights_only=True`` and return a flat ``name -> tensor`` dict.

    ``key`` picks a container entry (e.g. "params") that must exist; otherwise ``prefer`` is used when the
    file has it, else the first known container key.
    Wrapper prefixes such as ``module.`` are stripped when every tensor name carries them; when only some
    names start with ``generator.`` (an MMEditing restorer), those are the network and the rest is dropped.
    """
    return _state_from(Path(path), None, key, prefer)


def read_merged_state_dict(files: Sequence[tuple[Path, str | None]]) -> dict[str, torch.Tensor]:
    """The union of the state dicts of ``(path, state_key)`` files (a checkpoint and its parts).

    A tensor name that two files both hold is a WeightsError: the parts of a checkpoint never overlap.
    """
    merged: dict[str, torch.Tensor] = {}
    for path, key in files:
        state = read_state_dict(path, key)
        twice = sorted(set(state) & set(merged))
        if twice:
            raise WeightsError(
                f"checkpoint '{path}' repeats {len(twice)} tensor(s) of another part (e.g. {twice[0]}); "
                "reinstall vrestore or report this as a bug"
            )
        merged.update(state)
    return merged


def read_registered(store: Store, key: str, *, progress: Callable | None = None,
                    label: str | None = None) -> tuple[dict[str, torch.Tensor], Path]:
    """The state dict of manifest entry ``key`` and its parts, each fetched and verified by ``store``, and the
    path of the entry's own file (the one that names the weights)."""
    files = store.fetch_all(key, progress=progress, label=label)
    return read_merged_state_dict([(path, entry.state_key) for path, entry in files]), files[0][0]


def read_user_checkpoint(path: Path, *, prefer: str | None = None) -> tuple[dict[str, torch.Tensor], str]:
    """:func:`read_state_dict` of a user's ``--weights`` file and its full sha256, from one read of the file."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"checkpoint '{path}' does not exist; check the path given to --weights")
    data = path.read_bytes()
    return _state_from(path, data, None, prefer), hashlib.sha256(data).hexdigest()


def _state_from(path: Path, data: bytes | None, key: str | None, prefer: str | None) -> dict[str, torch.Tensor]:
    """The flat state dict of the checkpoint at ``path`` (read from ``data`` when given)."""
    if data is None and not path.is_file():
        raise WeightsError(f"checkpoint '{path}' does not exist; check the path")
    try:
        with warnings.catch_warnings():
            # Any pickle file (a video's bytes too) may trigger this note on its way to the error below.
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            source = io.BytesIO(data) if data is not None else path
            obj = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types for foreign or malicious files
        raise WeightsError(_unreadable_message(path, exc)) from exc
    if key is None and prefer is not None and isinstance(obj, Mapping) and isinstance(obj.get(prefer), Mapping):
        key = prefer
    state = _unwrap(obj, key, path)
    return _strip_prefixes(state)


@dataclass(frozen=True)
class WeightsUsed:
    """The weights a loaded model runs: a checkpoint ``file`` with its ``sha256``, or none (built-in).

    ``origin`` is "bundled" (shipped in the package), "cache" (downloaded), "file" (given with --weights)
    or "built-in" (the model's own seeded or initial weights).
    """

    origin: str
    file: str | None = None
    sha256: str | None = None

    def describe(self) -> str:
        """E.g. ``weights /x/pgdenet-tud.pth (bundled, sha256 5f79aebe2f6f)`` or ``built-in weights``."""
        if self.file is None:
            return "built-in weights"
        return f"weights {self.file} ({self.origin}, sha256 {self.short_sha256})"

    @property
    def short_sha256(self) -> str | None:
        """The first 12 hex digits of the sha256 (as in the cache's file names)."""
        return None if self.sha256 is None else self.sha256[:12]

    def to_dict(self) -> dict:
        """A JSON-ready dict (``weights`` in restore's ``--json`` record)."""
        return {"origin": self.origin, "file": self.file, "sha256": self.short_sha256}


def _unreadable_message(path: Path, exc: Exception) -> str:
    """Why ``torch.load(weights_only=True)`` refused ``path``, and what to do."""
    # weights_only reports a class it will not import as "Unsupported global: GLOBAL module.Name ..."; any
    # other failure (an unknown opcode, a bad zip, an empty file) means the bytes are no checkpoint.
    found = re.search(r"Unsupported global: GLOBAL (\S+)", str(exc))
    if isinstance(exc, pickle.UnpicklingError) and found:
        return (f"checkpoint '{path}' holds Python objects besides tensors (e.g. {found.group(1)}), which could run "
                "code, so vrestore does not load it; if you trust its source, open it in Python with weights_only "
                "turned off, save only the model's state_dict with torch.save(), and pass that file to --weights")
    return (f"'{path}' is not a PyTorch checkpoint (or is damaged); pass the .pth/.pt/.ckpt file of the model's "
            "weights to --weights")


def load_into(module: nn.Module, state: Mapping[str, torch.Tensor], source: str) -> None:
    """Strictly load ``state`` into ``module``; a mismatch becomes a WeightsError naming a few keys."""
    own = module.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [k for k in own if k in state and tuple(own[k].shape) != tuple(state[k].shape)]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected (e.g. {unexpected[0]})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} of another shape (e.g. {k}: {list(state[k].shape)} vs {list(own[k].shape)})")
        raise WeightsError(
            f"checkpoint '{source}' does not fit this model: {'; '.join(parts)}; pick the matching --model"
        )
    module.load_state_dict(dict(state), strict=True)


def _unwrap(obj: object, key: str | None, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, Mapping) and key is not None:
        if key not in obj:
            raise WeightsError(f"checkpoint '{path}' has no entry '{key}' (it has: {', '.join(map(str, obj))})")
        obj = obj[key]
    elif isinstance(obj, Mapping) and not _is_flat(obj):
        for candidate in _CONTAINER_KEYS:
            if candidate in obj and isinstance(obj[candidate], Mapping):
                obj = obj[candidate]
                break
    if not isinstance(obj, Mapping) or not _is_flat(obj):
        raise WeightsError(f"checkpoint '{path}' holds no state dict of tensors; is it a model checkpoint?")
    return {str(k): v for k, v in obj.items()}


def _is_flat(obj: Mapping) -> bool:
    return bool(obj) and all(isinstance(v, torch.Tensor) for v in obj.values())


def _strip_prefixes(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    for prefix in _PREFIXES:
        if all(k.startswith(prefix) for k in state) or (
            prefix in _SUBMODULE_PREFIXES and any(k.startswith(prefix) for k in state)
        ):
            state = {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
    return state
