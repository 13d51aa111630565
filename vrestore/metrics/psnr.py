"""PSNR per image, BasicSR convention: mean squared error over all pixels and channels, inf when equal."""

from __future__ import annotations

import torch


def psnr(a: torch.Tensor, b: torch.Tensor, peak: float) -> torch.Tensor:
    """PSNR in dB of each pair of images in two (N,C,H,W) batches on the 0..peak scale; inf when equal.

    The squared errors are summed in float64 (as BasicSR computes); float32 inputs are fine when they hold
    integer sample values (exact below 2**24), as decoded frames do.
    """
    if a.shape != b.shape:
        raise ValueError(f"psnr needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    dtype = torch.promote_types(a.dtype, b.dtype)
    diff = a.to(dtype) - b.to(dtype)
    mse = diff.square().flatten(1).sum(dim=1, dtype=torch.float64) / diff[0].numel()
    return 10.0 * torch.log10(peak**2 / mse)
