"""A benchmark's results file: benchmarks/results/<name>-<date>[-<tag>...].md, headed by device, command, date.

Each benchmark writes its own header lines (what makes its numbers comparable differs), from these pieces:
:func:`today` for the date, :func:`command` for the command line, :func:`cpu_name` / :func:`cpu_model` for the
device, and :func:`write_results`, the one place that names and writes the file. Import it after putting the
repository root on ``sys.path`` (``python benchmarks/x.py`` and ``python -m benchmarks.x`` both work then).
"""

from __future__ import annotations

import datetime as dt
import platform
import shlex
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def today() -> str:
    """The date of the run, ISO (2026-12-05): in the file name and the header."""
    return dt.date.today().isoformat()


def command(*, quote: bool = False) -> str:
    """This run's command line, ``python`` and ``sys.argv`` (each argument shell-quoted when ``quote``)."""
    return "python " + " ".join(shlex.quote(a) for a in sys.argv) if quote else "python " + " ".join(sys.argv)


def cpu_name(fallback: str | None = None) -> str:
    """``platform.processor()``, or ``fallback`` where it is empty (default: the machine type, e.g. x86_64)."""
    return platform.processor() or (platform.machine() if fallback is None else fallback)


def cpu_model(fallback: str | None = None) -> str:
    """The CPU's model name from /proc/cpuinfo, else :func:`cpu_name` with ``fallback``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return cpu_name(fallback)


def cpu_flags() -> list[str]:
    """The speed-relevant instruction sets /proc/cpuinfo lists (AVX2, AVX-512, AVX512-BF16, AMX), sorted."""
    cpuinfo = Path("/proc/cpuinfo")
    wanted = {"avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16"}
    try:
        return sorted(set(cpuinfo.read_text().split()) & wanted)
    except OSError:
        return []


def results_path(name: str, *tags: str, date: str | None = None, dated: bool = True) -> Path:
    """``RESULTS/<name>-<date>[-<tag>...].md``; ``<name>[-<tag>...].md`` when not ``dated`` (a latest-results file)."""
    return RESULTS / ("-".join([name, *([date or today()] if dated else []), *tags]) + ".md")


def write_results(
    text: str, name: str, *tags: str, date: str | None = None, dated: bool = True, out: Path | None = None
) -> Path:
    """Write ``text`` to ``out`` or :func:`results_path` (folders made as needed), say where, return the path."""
    path = out or results_path(name, *tags, date=date, dated=dated)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return path
