"""Small convolutional blocks with BasicSR parameter names (so official checkpoints load strictly)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _scaled_kaiming_(conv: nn.Conv2d, scale: float) -> None:
    """BasicSR's default init: kaiming normal times ``scale``, zero bias."""
    nn.init.kaiming_normal_(conv.weight)
    with torch.no_grad():
        conv.weight.mul_(scale)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


class ResidualBlockNoBN(nn.Module):
    """``x + conv2(relu(conv1(x)))`` with 3x3 convs."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, 1, 1)
        self.conv2 = nn.Conv2d(channels, channels, 3, 1, 1)
        _scaled_kaiming_(self.conv1, 0.1)
        _scaled_kaiming_(self.conv2, 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class ResidualBlocksWithInputConv(nn.Module):
    """A 3x3 conv from ``in_channels`` to ``channels``, LeakyReLU(0.1), then ``num_blocks`` residual blocks."""

    def __init__(self, in_channels: int, channels: int, num_blocks: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, 1, 1),
            nn.LeakyReLU(0.1),
            nn.Sequential(*(ResidualBlockNoBN(channels) for _ in range(num_blocks))),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class PixelShufflePack(nn.Module):
    """Conv to ``out_channels * scale**2`` channels followed by pixel shuffle."""

    def __init__(self, in_channels: int, out_channels: int, scale: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.scale = scale
        self.upsample_conv = nn.Conv2d(in_channels, out_channels * scale * scale, kernel_size,
                                       padding=(kernel_size - 1) // 2)
        _scaled_kaiming_(self.upsample_conv, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.upsample_conv(x), self.scale)
