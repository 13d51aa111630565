"""Noise: additive Gaussian, Poisson (shot) and speckle (multiplicative Gaussian), as in the TUD protocol.

Each function takes the frame(s) and the drawn parameters; the random field comes from ``seed`` through
its own ``numpy.random.Generator``, so the same parameters always give the same pixels.
"""

from __future__ import annotations

import numpy as np
import torch


def _standard_normal(seed: int, like: torch.Tensor) -> torch.Tensor:
    noise = np.random.default_rng(seed).standard_normal(tuple(like.shape), dtype=np.float32)
    return torch.from_numpy(noise).to(device=like.device, dtype=like.dtype)


def gaussian(x: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """``x + N(0,1) * sigma/255`` per pixel and channel, clamped to [0,1] (sigma on the 0-255 scale)."""
    return (x + _standard_normal(seed, x) * (sigma / 255.0)).clamp(0, 1)


def speckle(x: torch.Tensor, sigma: float, seed: int) -> torch.Tensor:
    """``x + x * N(0,1) * sigma/255`` (multiplicative), clamped to [0,1]."""
    return (x + x * _standard_normal(seed, x) * (sigma / 255.0)).clamp(0, 1)


def poisson(x: torch.Tensor, alpha: float, seed: int) -> torch.Tensor:
    """Shot noise with ``10**alpha`` photons at full scale: ``Poisson(x * p) / p``, clamped to [0,1]."""
    peak = 10.0 ** alpha
    values = x.detach().double().cpu().clamp(0, 1).numpy()
    counts = np.random.default_rng(seed).poisson(values * peak)
    out = torch.from_numpy(counts / peak)
    return out.to(device=x.device, dtype=x.dtype).clamp(0, 1)
