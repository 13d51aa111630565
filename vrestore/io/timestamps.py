"""Broken source timestamps: how they are detected and what replaces them (the one place that decides).

Real variable frame rates and real gaps are kept exactly; only timestamps that cannot describe playback
are replaced, and never silently (one warning per input, through the "vrestore" logger, so it lands in
``warnings`` of restore/synth results and on stderr).

* **Broken from the start** (decided by the probe from the first ``PROBE_PACKETS`` video packets, no
  extra decoding): two packets share a timestamp (all pts 0, duplicated pts), or they advance less than
  ``1 / SANE_FPS_MAX`` s per frame on average (an absurd rate, e.g. one tick of 1/90000 per frame). Packets
  come in decode order, so B-frame reordering (distinct pts) never trips the first rule. Every frame is
  then re-timed at a constant rate: ``pts = start + round(index * interval)``, duration one interval, and
  the VideoInfo's ``frame_rate``/``duration_s``/``time_base`` describe that timing, so writers, synth,
  compare and the demo all see it.
* **Broken later** (the reader streams, so this is decided per frame): after the reorder window has put
  what it can in order, a timestamp that does not come after the previous one is placed one frame
  interval (at the fallback rate) after it; frames that do advance keep their source pts. (One tick
  would be 1/90000 s in many files: players would flash such frames.)
* **Fallback rate**: the first sane one of the stream's ``average_rate``, ``guessed_rate``, ``base_rate``,
  then the codec's declared rate (bitstream or container header), then ``DEFAULT_FPS``. When the
  timestamps are broken from the start, ``average_rate`` and ``base_rate`` are left out: FFmpeg measures
  them from those very timestamps (the bundled demo clip says 2500 fps: 100 frames in one frame's time).
* **Sane rate**: ``SANE_FPS_MIN`` <= fps <= ``SANE_FPS_MAX`` (1-1000 fps; real 240/480 fps captures pass).
* **Time base**: the source's when one frame interval spans at least one tick (so re-timed pts strictly
  increase), else ``1 / rate``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from vrestore.io.info import VideoInfo

log = logging.getLogger("vrestore")

PROBE_PACKETS = 16
SANE_FPS_MIN = Fraction(1)
SANE_FPS_MAX = Fraction(1000)
DEFAULT_FPS = Fraction(25)


def is_sane_rate(rate: Fraction | None) -> bool:
    """True for a frame rate a real video can have (``SANE_FPS_MIN`` to ``SANE_FPS_MAX``)."""
    return rate is not None and SANE_FPS_MIN <= rate <= SANE_FPS_MAX


def broken_reason(stamps: Sequence[int], time_base: Fraction | None) -> str | None:
    """Why the first packets' timestamps (decode order) cannot describe playback; None when they can."""
    if len(stamps) < 2:
        return None
    distinct = len(set(stamps))
    if distinct == 1:
        return f"all of the first {len(stamps)} frames have pts {stamps[0]}"
    if distinct < len(stamps):
        return f"{len(stamps) - distinct} of the first {len(stamps)} frames repeat a timestamp"
    if time_base is not None:
        interval = (max(stamps) - min(stamps)) * time_base / (len(stamps) - 1)
        if interval < 1 / SANE_FPS_MAX:
            return f"the first {len(stamps)} frames are {float(interval) * 1000:.3g} ms apart"
    return None


@dataclass(frozen=True)
class Rates:
    """The rates a stream declares (None when unset), in the order the fallback tries them."""

    average: Fraction | None = None
    guessed: Fraction | None = None
    base: Fraction | None = None
    codec: Fraction | None = None


def fallback_rate(rates: Rates, *, broken_from_start: bool) -> Fraction:
    """The constant rate that replaces broken timestamps (see the module docstring for the order)."""
    if broken_from_start:  # FFmpeg measures the average and base rates from those very timestamps
        candidates = (rates.guessed, rates.codec)
    else:
        candidates = (rates.average, rates.guessed, rates.base, rates.codec)
    return next((rate for rate in candidates if is_sane_rate(rate)), DEFAULT_FPS)


def repaired_time_base(time_base: Fraction | None, rate: Fraction) -> Fraction:
    """The source time base when one frame interval at ``rate`` spans at least one tick, else ``1 / rate``."""
    if time_base is not None and 1 / (rate * time_base) >= 1:
        return time_base
    return 1 / rate


class Restamper:
    """Presentation timestamps for the decoded frames of one video file, in order (see the module docstring).

    ``stamp(index, pts)`` returns ``(pts, duration)``: the source pts and None when the frame keeps its
    timing, else the replacement pts and its duration (one interval) in the info's time base.
    """

    def __init__(self, info: VideoInfo) -> None:
        self._info = info
        rate = info.fallback_rate or DEFAULT_FPS
        self._rate = rate
        self._interval = 1 / (rate * info.time_base) if info.time_base else Fraction(1)
        self._start = info.start_pts or 0
        self._last: int | None = None
        self._warned = False

    def stamp(self, index: int, pts: int | None) -> tuple[int | None, int | None]:
        """The output pts of frame ``index`` (whose source pts, after reordering, is ``pts``) and its duration."""
        if self._info.retimed is not None:
            self._warn(
                f"has unusable timestamps ({self._info.retimed}); its frames are re-timed at a constant "
                f"{_rate_text(self._rate)} fps"
            )
            here = self._start + round(index * self._interval)
            return here, self._start + round((index + 1) * self._interval) - here
        if pts is None:
            return None, None
        if self._last is not None and pts <= self._last:
            self._warn(
                f"repeats or reverses a timestamp at frame {index}; such frames are placed one frame "
                f"(1/{_rate_text(self._rate)} s) after the one before"
            )
            step = max(1, round(self._interval))
            pts = self._last + step
            self._last = pts
            return pts, step
        self._last = pts
        return pts, None

    def _warn(self, what: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("input '%s' %s", self._info.source, what)


def _rate_text(rate: Fraction) -> str:
    return str(rate.numerator) if rate.denominator == 1 else f"{float(rate):.3f}"
