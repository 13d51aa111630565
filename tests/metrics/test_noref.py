"""No-reference blockiness (block-edge ratio) and blur (Crete-Roffet 2007) of decoded pictures."""

from __future__ import annotations

import cv2
import numpy as np

from vrestore.metrics.blockiness import blockiness
from vrestore.metrics.blur import blur


def natural_like(seed: int = 0, h: int = 240, w: int = 320) -> np.ndarray:
    """Smooth random shapes with sharp edges (uint8 RGB)."""
    rng = np.random.default_rng(seed)
    image = np.full((h, w, 3), 128, np.uint8)
    for _ in range(40):
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
        cv2.circle(image, centre, int(rng.integers(5, 60)), colour, -1)
    return image


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def test_blockiness_grows_with_compression():
    image = natural_like()
    values = [blockiness(image), blockiness(jpeg(image, 90)), blockiness(jpeg(image, 30)), blockiness(jpeg(image, 5))]
    assert values[0] < 1.1 and values == sorted(values) and values[-1] > 1.5, values
    shifted = jpeg(image, 5)[3:, 3:]  # a grid that is not on the frame's 8-pixel lattice is not seen
    assert blockiness(shifted) < values[-1]


def test_blur_grows_with_blur():
    image = natural_like(1)
    values = [blur(image)] + [blur(cv2.GaussianBlur(image, (0, 0), s)) for s in (1, 2, 4)]
    assert values == sorted(values) and values[0] < 0.5 and values[-1] > 0.8, values
    assert blur(np.full((40, 40, 3), 9, np.uint8)) == 0.0  # no variation at all: not called blurred
