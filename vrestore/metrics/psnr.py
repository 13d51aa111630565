"""PSNR per image with BasicSR's convention: MSE over all pixels and channels in float64, inf when equal."""

from __future__ import annotations

import torch

from vrestore.metrics.conventions import psnr_from_mse

__all__ = ["psnr", "psnr_from_mse"]


def psnr(a: torch.Tensor, b: torch.Tensor, peak: float) -> torch.Tensor:
    """PSNR in dB of each pair of images in two (N,C,H,W) batches on the 0..peak scale; float64 (N,), inf when equal."""
    if a.shape != b.shape:
        raise ValueError(f"psnr needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    diff = a.double() - b.double()
    mse = diff.pow(2).flatten(1).mean(dim=1)
    return 10.0 * torch.log10(peak**2 / mse)
