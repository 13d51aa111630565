"""PSNR per image, BasicSR convention: mean squared error over all pixels and channels, inf when equal."""

from __future__ import annotations

import torch


def psnr(a: torch.Tensor, b: torch.Tensor, peak: float) -> torch.Tensor:
    """PSNR in dB of each pair of images in two (N,C,H,W) batches on the 0..peak scale; inf when equal.

    Computed in float64 (BasicSR casts to float64 too).
    """
    if a.shape != b.shape:
        raise ValueError(f"psnr needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    diff = a.double() - b.double()
    mse = diff.pow(2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10(peak**2 / mse)
