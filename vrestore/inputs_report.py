"""The extra model inputs a restore used (``--sigma``), logged window by window and reported in ``--json``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from vrestore.models.auto_inputs import is_auto

log = logging.getLogger("vrestore")


class InputsLog:
    """Collects the values estimated per window for the model's ``auto`` inputs (``restore_frames``'s
    ``on_inputs``), logging each at INFO (shown by ``--verbose``)."""

    def __init__(self) -> None:
        self.windows: list[tuple[int, int, dict[str, float]]] = []

    def __call__(self, first: int, stop: int, values: dict[str, float]) -> None:
        self.windows.append((first, stop, dict(values)))
        said = ", ".join(f"{name} {value:g}" for name, value in values.items())
        log.info(f"frames {first}-{stop - 1}: estimated {said}")

    def report(self, extra: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """Per input of ``extra``: ``{"auto": true, "per_window": [{"frames": [first, stop], name: value}]}``
        for an estimated one, ``{"auto": false, "value": v}`` for a given one (``stop`` is exclusive)."""
        out: dict[str, dict[str, Any]] = {}
        for name, value in extra.items():
            if is_auto(value):
                per_window = [{"frames": [first, stop], name: values[name]}
                              for first, stop, values in self.windows if name in values]
                out[name] = {"auto": True, "per_window": per_window}
            else:
                out[name] = {"auto": False, "value": value}
        return out
