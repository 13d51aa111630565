"""Blockiness of a picture: how much stronger luma steps are on the 8-pixel block grid than elsewhere.

The ratio of the mean absolute difference across block boundaries to that inside blocks, horizontally and
vertically averaged, in the spirit of the block-edge measures of H. R. Wu and M. Yuen, "A generalized
block-edge impairment metric for video coding", IEEE SPL 1997. 1.0 means no grid (or blocks that are not
aligned with the frame's origin, e.g. after scaling). A DAVIS 480p test frame (JPEG quality about 95) reads
1.19; re-encoded as JPEG at quality 40 / 15 / 5 it reads 1.49 / 1.90 / 3.03. Content with a period of 8
pixels reads high too.
"""

from __future__ import annotations

import numpy as np

BLOCK = 8


def blockiness(image: np.ndarray) -> float:
    """Boundary-to-interior step ratio of an RGB (H,W,3) or single-plane picture (any integer or float scale)."""
    plane = _luma(image)
    ratios = [r for r in (_ratio(plane), _ratio(plane.T)) if r is not None]
    return float(np.mean(ratios)) if ratios else 1.0


def _ratio(plane: np.ndarray) -> float | None:
    """Horizontal steps: columns between x = 8k-1 and 8k against all other neighbouring columns."""
    if plane.shape[1] < 2 * BLOCK:
        return None
    steps = np.abs(np.diff(plane, axis=1))  # step j lies between columns j and j + 1
    on_grid = (np.arange(steps.shape[1]) % BLOCK) == BLOCK - 1
    inside = steps[:, ~on_grid].mean()
    edges = steps[:, on_grid].mean()
    return float(edges / inside) if inside > 1e-6 else None


def _luma(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image.astype(np.float32)
    image = image.astype(np.float32)
    return 0.299 * image[..., 0] + 0.587 * image[..., 1] + 0.114 * image[..., 2]
