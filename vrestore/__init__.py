"""vrestore: video restoration from the command line and from Python."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("vrestore")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "evaluate_pair", "list_models", "load_model", "restore_many", "restore_video", "synthesize"]


def __getattr__(name: str):
    # Lazy: importing vrestore (e.g. for --version) must not pull in torch and PyAV.
    if name in ("restore_video", "load_model"):
        from vrestore import api

        return getattr(api, name)
    if name == "restore_many":
        from vrestore.batch_restore import restore_many

        return restore_many
    if name == "evaluate_pair":
        from vrestore.metrics.video import evaluate_pair

        return evaluate_pair
    if name == "synthesize":
        from vrestore.synth_api import synthesize

        return synthesize
    if name == "list_models":
        from vrestore.models import list_models

        return list_models
    raise AttributeError(f"module 'vrestore' has no attribute {name!r}")
