"""Preparing frames for metrics the way BasicSR does: border crop and the BT.601 luma channel."""

from __future__ import annotations

import numpy as np
import torch

# BasicSR's bgr2ycbcr(y_only=True) row, reordered for RGB input in [0, 1]: Y = 16 + R*65.481 + G*128.553
# + B*24.966, on the 0..255 scale (BT.601, limited range).
_Y_WEIGHTS = (65.481, 128.553, 24.966)
_Y_OFFSET = 16.0


def crop_border(x: torch.Tensor, border: int) -> torch.Tensor:
    """Drop ``border`` pixels on every side of the last two dims (BasicSR's ``crop_border``)."""
    if border <= 0:
        return x
    return x[..., border:-border, border:-border]


def rgb_to_y(x: torch.Tensor, peak: float) -> torch.Tensor:
    """(N,3,H,W) RGB on the 0..peak scale -> (N,1,H,W) float64 BT.601 luma on the same scale.

    BasicSR converts in float32 from [0, 1]; for 8-bit data that is the same as this float64 computation
    to within 1e-5 of a grey level (the tests bound the PSNR difference).
    """
    x = x.double()
    weights = torch.tensor(_Y_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
    unit = x / peak
    y = (unit * weights).sum(dim=1, keepdim=True) + _Y_OFFSET
    return y * (peak / 255.0)


def rgb_to_y_array(image: np.ndarray, peak: float) -> np.ndarray:
    """(H,W,3) RGB on the 0..peak scale -> (H,W,1) float64 BT.601 luma on the same scale (as ``rgb_to_y``)."""
    unit = image.astype(np.float64) / peak
    y = unit @ np.asarray(_Y_WEIGHTS, dtype=np.float64) + _Y_OFFSET
    return (y * (peak / 255.0))[..., None]
