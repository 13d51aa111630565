"""The writers' context-manager rule, written once: ``close()`` after a normal block, ``abort()`` after an error."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

_W = TypeVar("_W", bound="CloseOnSuccess")


class CloseOnSuccess:
    """Mixin for writers with ``close()`` and ``abort()``: a ``with`` block that ends normally closes the writer
    (unless it was closed inside the block), one that raises aborts it, so no half-written output remains."""

    def close(self) -> object:  # pragma: no cover - every writer defines its own
        raise NotImplementedError

    def abort(self) -> None:  # pragma: no cover - every writer defines its own
        raise NotImplementedError

    def __enter__(self: _W) -> _W:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()
        elif not getattr(self, "_closed", False):
            self.close()
