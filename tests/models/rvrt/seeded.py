"""Seeded random RVRT weights, the same for the official module and ours (keys and shapes decide them)."""

from __future__ import annotations

import math

import torch

KEEP = ("relative_position_index", "spynet.mean", "spynet.std")


def seeded_state(reference: dict[str, torch.Tensor], seed: int) -> dict[str, torch.Tensor]:
    """Random values for every parameter of ``reference`` (a state dict); buffers kept as they are.

    Scales keep activations tame: weights ~ N(0, 1/fan_in), LayerNorm weights ~ 1 + N(0, 0.1^2),
    biases and position-bias tables ~ N(0, 0.02^2). Each key draws from its own generator.
    """
    state = {}
    for index, key in enumerate(sorted(reference)):
        value = reference[key]
        if any(key.endswith(k) for k in KEEP):
            state[key] = value.clone()
            continue
        gen = torch.Generator().manual_seed(seed * 100_003 + index)
        noise = torch.randn(value.shape, generator=gen, dtype=torch.float64)
        if key.endswith("relative_position_bias_table") or key.endswith("bias"):
            noise = noise * 0.02
        elif value.dim() == 1:
            noise = 1 + 0.1 * noise
        else:
            noise = noise / math.sqrt(value[0].numel())
        state[key] = noise.to(value.dtype)
    return state
