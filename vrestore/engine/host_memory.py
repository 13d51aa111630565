"""Keep freed host memory in the process (glibc), so that large CPU tensors do not page-fault on every reuse.

A video network on the CPU allocates and frees tens of megabytes per layer (a 64-channel 640x360 bf16
feature map is 29 MB). glibc serves blocks above its mmap threshold with fresh ``mmap`` calls and gives the
freed top of a heap back to the kernel above its trim threshold, so nearly every new tensor touches pages
the kernel must zero first. Measured with ``pgdenet.tud`` restoring 96 frames of 640x360 on 2 cores: 42 M
page faults and 102 s of system time (0.75 fps); with both thresholds raised, 0.57 M faults, 1.8 s and
1.61 fps (``/usr/bin/time -v`` of ``vrestore restore``, 2026-12-05). Training gains alike.

The cost is that the process keeps up to ``TRIM_THRESHOLD`` bytes of freed memory instead of returning it:
resident memory still stays flat over a long video (the same blocks are reused window after window).
Thresholds a user sets through glibc's own environment variables (``MALLOC_TRIM_THRESHOLD_``,
``MALLOC_MMAP_THRESHOLD_``) are left alone; other C libraries (macOS, musl, Windows) are not touched.
"""

from __future__ import annotations

import ctypes
import logging
import os
import platform
from pathlib import Path

log = logging.getLogger("vrestore")

MMAP_THRESHOLD = 32 * 2**20  # glibc's largest allowed value on 64-bit; bigger blocks are still mmapped
TRIM_THRESHOLD = 2**30  # freed memory kept before glibc returns heap tops to the kernel
_M_TRIM_THRESHOLD = -1  # mallopt parameter numbers from <malloc.h>
_M_MMAP_THRESHOLD = -3

_tuned = False


def keep_freed_memory() -> bool:
    """Raise glibc's trim and mmap thresholds once per process; True when they are (now or before) raised."""
    global _tuned
    if _tuned:
        return True
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    settings = ((_M_TRIM_THRESHOLD, TRIM_THRESHOLD, "MALLOC_TRIM_THRESHOLD_"),
                (_M_MMAP_THRESHOLD, MMAP_THRESHOLD, "MALLOC_MMAP_THRESHOLD_"))
    for parameter, value, variable in settings:
        if variable not in os.environ and mallopt(parameter, value) != 1:
            log.debug("mallopt(%d, %d) refused", parameter, value)
            return False
    _tuned = True
    return True


def usable_ram_bytes() -> int | None:
    """The memory this process may use: the physical RAM, lowered to a cgroup (container) limit; None if unknown.

    The total, not what is free at the moment: a decision read from it (the CPU window length) is then the
    same on every run on one machine, so the same command gives the same output.
    """
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not POSIX (Windows)
        return None
    for limit_file in _CGROUP_LIMITS:
        try:
            text = Path(limit_file).read_text().strip()
        except OSError:
            continue
        if text.isdigit():
            total = min(total, int(text))
    return total if total > 0 else None


# cgroup v2, then v1; "max" (v2) or a huge number (v1) means no limit.
_CGROUP_LIMITS = ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes")
