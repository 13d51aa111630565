"""Process-wide settings the command-line program applies at start-up."""

from __future__ import annotations

import ctypes
import os
import sys

_M_MMAP_THRESHOLD = -3  # mallopt parameter number in glibc's malloc.h
_FRAME_BUFFER_THRESHOLD = 128 * 1024


def pin_malloc_mmap_threshold() -> None:
    """Keep glibc's mmap threshold fixed so that freed frame buffers go back to the OS.

    glibc raises the threshold each time a large mmapped block is freed; frame-sized buffers then come
    from the heap arenas of the decode, model and encode threads and fragment them, so the resident size
    creeps up with the length of the video (+18 % from 100 to 1000 frames in benchmarks/memory_vs_length.py;
    +0.2 % with a fixed threshold). A user's own MALLOC_MMAP_THRESHOLD_ setting wins.
    """
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, _FRAME_BUFFER_THRESHOLD)
    except (OSError, AttributeError):  # not glibc (e.g. musl): nothing to tune
        pass
