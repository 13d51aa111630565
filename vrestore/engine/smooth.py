"""Optional temporal smoothing of per-frame outputs: a flow-free, motion-gated recursive blend.

Image models restore each frame on its own, so static regions may flicker slightly between frames.
With strength ``a`` in (0, 1), each output pixel becomes ``r + a * g * (s_prev - r)`` where ``r`` is the
model's output, ``s_prev`` the previous smoothed frame, and ``g`` a motion gate in [0, 1]: 1 where the
local (box-filtered, radius 2) mean absolute luma difference between ``r`` and ``s_prev`` is 0, falling
linearly to 0 at ``threshold`` (a fraction of full scale, 12/255 by default). Flicker is small and
spatially incoherent, motion is large, so moving content passes through and a scene cut (mean gate under
0.2) restarts the filter. No optical flow, so fast small detail can leave a faint trail when the
strength is high; 0.5 is a moderate choice. The first frame passes unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import cv2
import numpy as np

from vrestore.errors import UsageError
from vrestore.frame import Frame

DEFAULT_THRESHOLD = 12 / 255
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
_RADIUS = 2
_CUT_GATE = 0.2


def check_strength(strength: float) -> float:
    """``strength`` if it lies in [0, 1) (0 = off), else a UsageError."""
    if not 0.0 <= strength < 1.0:
        raise UsageError(f"--temporal-smooth {strength} is out of range; use 0 (off) to below 1, e.g. 0.5")
    return strength


def motion_gate(current: np.ndarray, previous: np.ndarray, threshold: float = DEFAULT_THRESHOLD) -> np.ndarray:
    """Per-pixel blend weight in [0, 1] for float RGB images in [0, 1] (1 = static, 0 = moving)."""
    diff = np.abs((current - previous) @ _LUMA)
    size = 2 * _RADIUS + 1
    local = cv2.blur(diff, (size, size), borderType=cv2.BORDER_REFLECT)
    return np.clip(1.0 - local / threshold, 0.0, 1.0)


class TemporalSmoother:
    """Stateful filter over consecutive float RGB frames in [0, 1]."""

    def __init__(self, strength: float, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.strength = check_strength(strength)
        self.threshold = threshold
        self._previous: np.ndarray | None = None

    def __call__(self, image: np.ndarray) -> np.ndarray:
        if self._previous is None or self._previous.shape != image.shape:
            self._previous = image
            return image
        gate = motion_gate(image, self._previous, self.threshold)
        if gate.mean() < _CUT_GATE:
            self._previous = image
            return image
        smoothed = image + (self.strength * gate)[..., None] * (self._previous - image)
        self._previous = smoothed
        return smoothed


def smooth_frames(frames: Iterable[Frame], strength: float, threshold: float = DEFAULT_THRESHOLD) -> Iterator[Frame]:
    """Apply ``TemporalSmoother`` to a stream of uint8/uint16 frames (a pass-through when ``strength`` is 0)."""
    if check_strength(strength) == 0.0:
        yield from frames
        return
    smoother = TemporalSmoother(strength, threshold)
    for frame in frames:
        peak = float(frame.max_value)
        out = smoother(frame.image.astype(np.float32) / peak)
        image = np.clip(np.rint(out * peak), 0, peak).astype(frame.image.dtype)
        yield frame.with_image(np.ascontiguousarray(image))
