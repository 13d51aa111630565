"""The model registry: ``arch.tag`` ids, default tags, lookup with suggestions.

``DEFAULT_MODEL`` is a bare architecture name: it means that architecture's default tag, so the model behind
it changes by registering another default tag, never by special cases elsewhere.

Unknown ids (typos, unknown tags of a known architecture, unknown architectures) are all usage errors. The
suggestions are the full ids closest by edit distance (a bare name counts as its default id), and only
those within a third of the typed length: a name that is far from every id gets no guess, but the list
of that architecture's ids or the pointer to ``vrestore models list``.
"""

from __future__ import annotations

import fnmatch
from typing import TYPE_CHECKING

from vrestore.errors import UsageError
from vrestore.models.spec import ModelSpec
from vrestore.options import DEFAULT_MODEL

if TYPE_CHECKING:
    from torch import nn

__all__ = ["DEFAULT_MODEL", "build", "get_spec", "list_models", "register", "resolve_id"]


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
    close = suggest(model_id)
    if close:
        raise UsageError(f"unknown model '{model_id}'; did you mean {' or '.join(close)}?")
    arch = model_id.split(".", 1)[0]
    same_arch = [mid for mid in sorted(_SPECS) if mid.split(".", 1)[0] == arch]
    if same_arch:
        raise UsageError(f"unknown model '{model_id}'; the {arch} models are {', '.join(same_arch)}")
    raise UsageError(f"unknown model '{model_id}'; run 'vrestore models list' to see all models")


def suggest(model_id: str, limit: int = 3) -> list[str]:
    """The registered full ids closest to ``model_id`` by edit distance (ties kept, at most ``limit``)."""
    _ensure_loaded()
    typed = model_id.strip().lower()
    distance: dict[str, int] = {}
    for mid in _SPECS:
        distance[mid] = _edit_distance(typed, mid)
    for arch, tag in _DEFAULT_TAGS.items():  # 'pgdnet' is a typo of the bare 'pgdenet', i.e. of pgdenet.mc
        full = f"{arch}.{tag}"
        if full in distance:
            distance[full] = min(distance[full], _edit_distance(typed, arch))
    best = min(distance.values(), default=0)
    if best > max(1, len(typed) // 3):
        return []
    return sorted(mid for mid, d in distance.items() if d == best)[:limit]


def _edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insertions, deletions, substitutions)."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


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
