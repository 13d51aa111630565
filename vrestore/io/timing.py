"""Output timestamps for the video writer: the encoder time base, each frame's pts and duration.

The encoder time base is the source's; frames without pts (image folders) are numbered at the source frame
rate (25 fps when unknown), so VFR timing is kept. Timestamps are rescaled to the encoder time base rounded
to nearest, and must strictly increase: a duplicate or out-of-order one raises
:class:`~vrestore.errors.InputError` before anything broken is written. mp4/mov get a ``movie_timescale`` of
lcm(1000, time-base denominator) so edit lists are exact.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path

from vrestore.errors import InputError
from vrestore.frame import Frame
from vrestore.io.info import VideoInfo
from vrestore.io.probe import rational


def rescale(pts: int, src: Fraction, dst: Fraction) -> int:
    """``pts`` in ``src`` units to ``dst`` units, rounded to nearest (half up)."""
    return math.floor(Fraction(pts) * src / dst + Fraction(1, 2))


def choose_time_base(source: VideoInfo) -> Fraction:
    """The encoder time base: the source's, else one frame interval at its frame rate (25 fps when unknown)."""
    tb = rational(source.time_base)
    if tb is not None:
        return tb
    rate = rational(source.frame_rate) or Fraction(25)
    return 1 / rate


class FrameClock:
    """Assigns strictly increasing pts (and durations) in the encoder time base to the frames of one output."""

    def __init__(self, source: VideoInfo, destination: Path) -> None:
        self.destination = destination
        self.time_base = choose_time_base(source)
        rate = rational(source.frame_rate) or Fraction(25)
        #: One frame interval in encoder time-base units (for frames without pts or duration).
        self.step = max(1, rescale(1, 1 / rate, self.time_base))
        self.last_pts: int | None = None

    def movie_timescale(self) -> int:
        """mp4/mov ``movie_timescale``: lcm(1000, time-base denominator), or the denominator when that is huge."""
        den = self.time_base.denominator
        scale = 1000 * den // math.gcd(1000, den)
        return scale if scale <= 10_000_000 else den

    def next_pts(self, frame: Frame) -> int:
        """``frame``'s pts in the encoder time base; InputError unless it comes after the previous frame's."""
        if frame.pts is None:
            pts = 0 if self.last_pts is None else self.last_pts + self.step
        else:
            pts = rescale(int(frame.pts), self._frame_time_base(frame), self.time_base)
        if self.last_pts is not None and pts <= self.last_pts:
            raise InputError(
                f"frame {frame.index} of {self.destination}: timestamp {float(pts * self.time_base):.6f} s "
                f"does not come after the previous frame's {float(self.last_pts * self.time_base):.6f} s; "
                "frame timestamps must strictly increase "
                "(the input has duplicate or out-of-order timestamps)"
            )
        self.last_pts = pts
        return pts

    def duration(self, frame: Frame) -> int | None:
        """``frame``'s duration in the encoder time base (at least 1), or None when it has none."""
        if not frame.duration:
            return None
        return max(1, rescale(int(frame.duration), self._frame_time_base(frame), self.time_base))

    def _frame_time_base(self, frame: Frame) -> Fraction:
        return Fraction(frame.time_base) if frame.time_base is not None else self.time_base
