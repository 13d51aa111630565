"""Deterministic, device-independent initialisation from a seed, by parameter name.

Two implementations with the same parameter names and shapes get bit-identical weights, which is what
parity goldens need (the golden stores the seed instead of megabytes of random weights).
"""

from __future__ import annotations

import math
import zlib

import torch
from torch import nn


def seeded_init_(module: nn.Module, seed: int, gain: float = 1.0, bias_scale: float = 0.01) -> nn.Module:
    """Overwrite every trainable parameter of ``module`` from ``seed``; frozen parameters and buffers stay.

    Each tensor gets its own generator seeded by ``seed`` and the CRC32 of its name, so the result does not
    depend on registration order. Weights are U(-1, 1) * ``gain`` / sqrt(fan_in), 1-d tensors U(-1, 1) * ``bias_scale``,
    and tensors named ``prompt_param`` U(0, 1) (as the prompt pools are initialised upstream).
    """
    with torch.no_grad():
        for name, param in module.named_parameters():
            if not param.requires_grad:
                continue
            gen = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(name.encode()))
            values = torch.rand(param.shape, generator=gen, dtype=torch.float64)
            if name.endswith("prompt_param"):
                new = values
            elif param.ndim <= 1:
                new = (values * 2 - 1) * bias_scale
            else:
                new = (values * 2 - 1) * gain / math.sqrt(param[0].numel())
            param.copy_(new.to(param.dtype))
    return module
