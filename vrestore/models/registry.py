"""The model registry: ``arch.tag`` ids, default tags, lookup with suggestions."""

from __future__ import annotations

import difflib
import fnmatch

from torch import nn

from vrestore.errors import UsageError
from vrestore.models.spec import ModelSpec

DEFAULT_MODEL = "pgdenet"

_SPECS: dict[str, ModelSpec] = {}
_DEFAULT_TAGS: dict[str, str] = {}


def register(spec: ModelSpec, *, default: bool = False) -> ModelSpec:
    """Add ``spec``; ``default=True`` makes its tag the one a bare ``arch`` id resolves to."""
    if "." not in spec.id or spec.id.startswith(".") or spec.id.endswith("."):
        raise ValueError(f"model id {spec.id!r} must look like 'arch.tag'")
    if spec.id in _SPECS:
        raise ValueError(f"model id {spec.id!r} is registered twice")
    _SPECS[spec.id] = spec
    if default:
        if spec.arch in _DEFAULT_TAGS:
            raise ValueError(f"architecture {spec.arch!r} has two default tags")
        _DEFAULT_TAGS[spec.arch] = spec.tag
    return spec


def resolve_id(model_id: str) -> str:
    """Full ``arch.tag`` id for ``model_id`` (a bare ``arch`` means its default tag)."""
    _ensure_loaded()
    if "." not in model_id and model_id in _DEFAULT_TAGS:
        return f"{model_id}.{_DEFAULT_TAGS[model_id]}"
    return model_id


def is_registered(model_id: str) -> bool:
    """True when ``model_id`` (full or bare) names a registered model."""
    return resolve_id(model_id) in _SPECS


def get_spec(model_id: str) -> ModelSpec:
    """The spec for ``model_id``; raises UsageError with close matches when unknown."""
    full = resolve_id(model_id)
    if full in _SPECS:
        return _SPECS[full]
    candidates = sorted(set(_SPECS) | set(_DEFAULT_TAGS))
    close = difflib.get_close_matches(model_id, candidates, n=3, cutoff=0.5)
    hint = f"did you mean {', '.join(close)}? " if close else ""
    raise UsageError(f"unknown model '{model_id}'; {hint}run 'vrestore models list' to see all models")


def list_models(pattern: str = "*") -> list[ModelSpec]:
    """Registered specs whose id matches the glob ``pattern``, sorted by id."""
    _ensure_loaded()
    return [spec for mid, spec in sorted(_SPECS.items()) if fnmatch.fnmatch(mid, pattern)]


def default_tag(arch: str) -> str | None:
    """The default tag of ``arch`` or None."""
    _ensure_loaded()
    return _DEFAULT_TAGS.get(arch)


def build(spec: ModelSpec) -> nn.Module:
    """A fresh module for ``spec`` (initial weights, eval mode)."""
    module = spec.factory()
    return module.eval()


def _ensure_loaded() -> None:
    # Architectures register themselves on import; importing the package is enough.
    import vrestore.models  # noqa: F401
