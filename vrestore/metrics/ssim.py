"""SSIM per image, BasicSR convention.

Gaussian window 11x11 with sigma 1.5, K1 = 0.01, K2 = 0.03, statistics of the population (not sample)
covariance, 'valid' filtering (the map loses 5 pixels per side), computed per channel and averaged, in
float64. This equals scikit-image's ``structural_similarity(gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=peak)``.
"""

from __future__ import annotations

import functools

import torch
import torch.nn.functional as F

WINDOW = 11
SIGMA = 1.5
K1, K2 = 0.01, 0.03


@functools.lru_cache(maxsize=8)
def _gaussian_1d(dtype: torch.dtype, device: str) -> torch.Tensor:
    coords = torch.arange(WINDOW, dtype=torch.float64) - (WINDOW - 1) / 2
    kernel = torch.exp(-(coords**2) / (2 * SIGMA**2))
    return (kernel / kernel.sum()).to(dtype=dtype, device=device)


def _blur(x: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian, 'valid' borders, independently for every channel of (N,C,H,W)."""
    n, c, h, w = x.shape
    g = _gaussian_1d(x.dtype, str(x.device))
    flat = x.reshape(n * c, 1, h, w)
    flat = F.conv2d(flat, g.view(1, 1, 1, WINDOW))
    flat = F.conv2d(flat, g.view(1, 1, WINDOW, 1))
    return flat.reshape(n, c, h - WINDOW + 1, w - WINDOW + 1)


def ssim(a: torch.Tensor, b: torch.Tensor, peak: float) -> torch.Tensor:
    """SSIM of each pair of images in two (N,C,H,W) batches on the 0..peak scale (mean over channels)."""
    if a.shape != b.shape:
        raise ValueError(f"ssim needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    if min(a.shape[-2:]) < WINDOW:
        raise ValueError(f"ssim needs images of at least {WINDOW}x{WINDOW}, got {a.shape[-1]}x{a.shape[-2]}")
    x, y = a.double(), b.double()
    c1, c2 = (K1 * peak) ** 2, (K2 * peak) ** 2
    n, c = x.shape[:2]
    stats = _blur(torch.cat([x, y, x * x, y * y, x * y], dim=1))
    mu_x, mu_y, xx, yy, xy = stats.split(c, dim=1)
    var_x, var_y, cov = xx - mu_x**2, yy - mu_y**2, xy - mu_x * mu_y
    ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))
    return ssim_map.reshape(n, c, -1).mean(dim=2).mean(dim=1)
