"""Model architectures and their registry. Importing this package registers every architecture."""

import vrestore.models.dppd  # noqa: F401  (each import registers the models of one architecture)
import vrestore.models.dynet  # noqa: F401
import vrestore.models.dynstaticnet  # noqa: F401
import vrestore.models.pgdenet  # noqa: F401
import vrestore.models.promptir  # noqa: F401
import vrestore.models.rvrt  # noqa: F401
import vrestore.models.tiny  # noqa: F401
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
