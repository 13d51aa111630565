"""Read checkpoint files safely and put their tensors into a module."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from vrestore.errors import WeightsError

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
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"checkpoint '{path}' does not exist; check the path given to --weights")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch.load raises many types for foreign or malicious files
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"checkpoint '{path}' cannot be read safely ({first_line}); is it a PyTorch file?") from exc
    if key is None and prefer is not None and isinstance(obj, Mapping) and isinstance(obj.get(prefer), Mapping):
        key = prefer
    state = _unwrap(obj, key, path)
    return _strip_prefixes(state)


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
