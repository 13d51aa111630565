"""Deterministic pseudo-random weights for any module: tiny test variants and parity goldens use them.

Only the tensor names and shapes matter, so two implementations with the same state-dict layout get the
same values (that is how a golden made with official code is compared with ours).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def seeded_state(shapes: dict[str, torch.Size], seed: int) -> dict[str, torch.Tensor]:
    """Uniform values scaled by 1/sqrt(fan-in) for tensors of rank >= 2; 1 +- 0.1 noise for vectors.

    Names are visited in sorted order so the draw does not depend on module definition order.
    """
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name in sorted(shapes):
        shape = torch.Size(shapes[name])
        noise = torch.rand(shape, generator=generator) * 2 - 1
        if len(shape) >= 2 and shape[0] > 0:
            value = noise / math.sqrt(max(1, shape.numel() // shape[0]))
        else:
            value = 1 + 0.1 * noise
        state[name] = value
    return state


def fill_seeded(module: nn.Module, seed: int) -> nn.Module:
    """Load ``seeded_state`` of ``module``'s own layout into it (strict) and return it."""
    own = module.state_dict()
    module.load_state_dict(seeded_state({k: v.shape for k, v in own.items()}, seed), strict=True)
    return module
