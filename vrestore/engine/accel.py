"""Speed settings applied to a loaded model before a run: cudnn autotuning and optional ``torch.compile``.

``torch.compile`` compiles lazily, on the first call, and can fail there (no C++ compiler, an operator the
compiler does not handle, an old GPU); :class:`CompiledOrEager` catches that, warns once and runs the
eager module from then on, so ``--compile`` never turns a working restore into a failing one.
"""

from __future__ import annotations

import logging
from typing import Any

import torch
from torch import nn

from vrestore.engine.host_memory import keep_freed_memory
from vrestore.engine.tiling import is_out_of_memory
from vrestore.models.loaded import LoadedModel

log = logging.getLogger("vrestore")


class CompiledOrEager(nn.Module):
    """Calls the compiled ``eager`` module; on a compilation or run failure warns and falls back to eager."""

    def __init__(self, eager: nn.Module, label: str, **compile_options: Any) -> None:
        super().__init__()
        self.eager = eager
        self.label = label
        self.compiled: Any = None
        try:
            self.compiled = torch.compile(eager, **compile_options)
        except Exception as exc:  # noqa: BLE001  (any failure means: run eager)
            self._give_up(exc)

    @property
    def active(self) -> bool:
        """True while the compiled module is in use."""
        return self.compiled is not None

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        if self.compiled is not None:
            try:
                return self.compiled(*args, **kwargs)
            except Exception as exc:  # noqa: BLE001  (out-of-memory is the engine's business; the rest falls back)
                if is_out_of_memory(exc):
                    raise
                self._give_up(exc)
        return self.eager(*args, **kwargs)

    def _give_up(self, exc: BaseException) -> None:
        self.compiled = None
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        log.warning("torch.compile failed for %s (%s: %s); running it uncompiled", self.label,
                    type(exc).__name__, first_line)


def accelerate(model: LoadedModel, *, compile: bool = False) -> LoadedModel:
    """Turn on cudnn autotuning on CUDA (tiles have a few fixed shapes) and, when asked, ``torch.compile``;
    on the CPU keep freed host memory for reuse (:mod:`vrestore.engine.host_memory`).

    Changes ``model`` in place and returns it. Compiling twice is a no-op.
    """
    if model.device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    else:
        keep_freed_memory()
    if compile and not isinstance(model.module, CompiledOrEager):
        model.module = CompiledOrEager(model.module, model.spec.id)
    return model
