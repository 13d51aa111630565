"""Model architectures and their registry. Importing this package registers every architecture."""

from vrestore.models import (
    rvrt,  # noqa: F401  (registers rvrt.*)
    tiny,  # noqa: F401  (registers tiny.test)
)
from vrestore.models.loaded import LoadedModel, resolve_device, resolve_dtype
from vrestore.models.registry import DEFAULT_MODEL, build, get_spec, list_models, register, resolve_id
from vrestore.models.spec import ModelSpec, Temporal

__all__ = [
    "DEFAULT_MODEL",
    "LoadedModel",
    "ModelSpec",
    "Temporal",
    "build",
    "get_spec",
    "list_models",
    "register",
    "resolve_device",
    "resolve_dtype",
    "resolve_id",
]
