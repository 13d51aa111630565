"""The ``-`` path: a video read from stdin or written to stdout (plain names, no PyAV)."""

from __future__ import annotations

import os

#: What the command line writes for stdin (as the input) or stdout (as the output).
STDIO = "-"
#: How a stdin source names itself in messages and in ``VideoInfo.source``.
STDIN_NAME = "<stdin>"


def is_stdio(path: str | os.PathLike[str] | None) -> bool:
    """True when ``path`` is ``-``: stdin as an input, stdout as an output."""
    return path is not None and os.fspath(path) == STDIO
