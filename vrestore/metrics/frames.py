"""Preparing frames for metrics the way BasicSR does: border crop and the BT.601 luma channel."""

from __future__ import annotations

import torch

from vrestore.metrics.conventions import Y_OFFSET, Y_WEIGHTS


def crop_border(x: torch.Tensor, border: int) -> torch.Tensor:
    """Drop ``border`` pixels on every side of the last two dims (BasicSR's ``crop_border``)."""
    if border <= 0:
        return x
    return x[..., border:-border, border:-border]


def rgb_to_y(x: torch.Tensor, peak: float) -> torch.Tensor:
    """(N,3,H,W) RGB on the 0..peak scale -> (N,1,H,W) float64 BT.601 luma on the same scale.

    BasicSR converts in float32 from [0, 1]; this float64 version differs from it by float32 rounding
    only (about 1e-5 of a grey level).
    """
    x = x.double()
    weights = torch.tensor(Y_WEIGHTS, dtype=x.dtype, device=x.device).view(1, 3, 1, 1) / 255
    return (x * weights).sum(dim=1, keepdim=True) + Y_OFFSET * peak / 255
