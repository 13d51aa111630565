"""PSNR per image, BasicSR convention: mean squared error over all pixels and channels, inf when equal."""

from __future__ import annotations

import math

import numpy as np
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


def psnr_arrays(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    """PSNR of two same-shape arrays; exact integer arithmetic for integer samples (inf when equal)."""
    if a.shape != b.shape:
        raise ValueError(f"psnr needs equal shapes, got {a.shape} and {b.shape}")
    exact = np.issubdtype(a.dtype, np.integer) and np.issubdtype(b.dtype, np.integer)
    dtype = np.int64 if exact else np.float64
    diff = (a.astype(dtype) - b.astype(dtype)).ravel()
    sse = float(np.dot(diff, diff))
    mse = sse / diff.size
    return math.inf if mse == 0 else 10.0 * math.log10(peak**2 / mse)
