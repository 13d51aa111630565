"""A seeded random DynStaticNet state dict, shared by the parity test and scripts/make_dynstaticnet_golden.py."""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch


def seeded_state(shapes: Mapping[str, torch.Size], seed: int) -> dict[str, torch.Tensor]:
    """Random values for every entry (sorted by name), scaled so that activations stay in a sane range.

    Norm weights are near 1, biases and running means near 0, running variances in [0.5, 1.5]; the fixed
    Haar filters (``*.wt.h{0,1}_{col,row}``) keep their true values.
    """
    generator = torch.Generator().manual_seed(seed)
    state = {}
    for name in sorted(shapes):
        shape = tuple(shapes[name])
        if ".wt.h" in name:
            sign = -1.0 if ".wt.h1" in name else 1.0
            state[name] = torch.tensor([1.0, sign]).mul(0.5**0.5).view(shape)
        elif name.endswith("num_batches_tracked"):
            state[name] = torch.tensor(0)
        elif name.endswith("running_var"):
            state[name] = 0.5 + torch.rand(shape, generator=generator)
        elif len(shape) == 1 and name.endswith(".weight"):
            state[name] = 1 + 0.1 * torch.randn(shape, generator=generator)
        elif len(shape) == 1:
            state[name] = 0.05 * torch.randn(shape, generator=generator)
        else:
            fan_in = math.prod(shape[1:])
            state[name] = 0.25 * torch.randn(shape, generator=generator) / math.sqrt(fan_in)
    return state
