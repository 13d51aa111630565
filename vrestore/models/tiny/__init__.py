"""``tiny.test``: a small residual conv net with fixed seeded weights, for tests, scripts and the demo.

It gently smooths noise (a learned-looking 2-layer residual filter); it is not a real restorer.
Receptive field: 5x5 pixels (two 3x3 convolutions), no temporal context.
"""

from __future__ import annotations

import torch
from torch import nn

from vrestore.models.registry import register
from vrestore.models.spec import ModelSpec, Temporal

SEED = 20261122


class TinyResidualNet(nn.Module):
    """x + conv(relu(conv(x))) with 8 hidden channels; weights drawn from a fixed seed."""

    def __init__(self, hidden: int = 8, seed: int = SEED) -> None:
        super().__init__()
        self.head = nn.Conv2d(3, hidden, 3, padding=1)
        self.tail = nn.Conv2d(hidden, 3, 3, padding=1)
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            # The head holds smoothing-like (non-negative) kernels; the tail blends them back towards the
            # local mean, so the residual nudges each pixel to its neighbourhood average.
            self.head.weight.copy_(torch.rand(self.head.weight.shape, generator=generator) / 27)
            self.head.bias.zero_()
            self.tail.weight.copy_(torch.randn(self.tail.weight.shape, generator=generator) * 0.02)
            self.tail.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.tail(torch.relu(self.head(x)))


TINY_TEST = register(
    ModelSpec(
        id="tiny.test",
        factory=TinyResidualNet,
        task="denoise",
        description="tiny seeded residual conv net for tests and scripts (not a real restorer)",
        temporal=Temporal.NONE,
        supports_half=True,
        supports_bfloat16=True,
    ),
    default=True,
)
