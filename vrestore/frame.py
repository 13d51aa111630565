"""The unit that flows between io/, engine/ and the writers: one decoded picture and its timing."""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np


@dataclass
class Frame:
    """One video frame.

    ``image`` is RGB, shape (H, W, 3), C-contiguous; ``uint8`` for 8-bit sources and ``uint16`` (full
    0..65535 scale, i.e. what ``rgb48le`` gives) for sources with more than 8 bits per sample.
    ``pts``/``time_base`` are the source timestamps (``pts`` may be None for frame folders); ``index``
    counts decoded frames from 0. ``duration`` is in ``time_base`` units when known. ``shot_start`` marks
    the first frame of a new shot after a hard cut (``engine/cuts.mark_cuts``): the engine's temporal windows
    and recurrent state never span it.
    """

    image: np.ndarray
    pts: int | None
    time_base: Fraction | None
    index: int
    is_key: bool = False
    duration: int | None = None
    shot_start: bool = False

    @property
    def max_value(self) -> int:
        """Peak sample value of ``image`` (255 or 65535)."""
        return 65535 if self.image.dtype == np.uint16 else 255

    def with_image(self, image: np.ndarray) -> Frame:
        """A copy of this frame carrying another picture (same timing)."""
        return replace(self, image=image)
