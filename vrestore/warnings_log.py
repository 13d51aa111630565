"""The warnings a run logged, kept for its result (``warnings`` in ``--json``, a comparison's notes)."""

from __future__ import annotations

import logging


class WarningCollector(logging.Handler):
    """Keeps the messages of the warnings logged while it is attached (to the ``vrestore`` logger)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
