"""Plain convolutional blocks of the BasicSR model family (names match its checkpoints)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def init_scaled_kaiming(module: nn.Module, scale: float) -> None:
    """Kaiming-normal conv/linear weights times ``scale``, zero biases (BasicSR's ``default_init_weights``)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.kaiming_normal_(m.weight)
            m.weight.data.mul_(scale)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


class ResidualBlock(nn.Module):
    """``x + conv2(relu(conv1(x)))`` without normalisation."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        init_scaled_kaiming(self, 0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(F.relu(self.conv1(x)))


class ResidualStack(nn.Module):
    """An input conv to ``out`` channels, LeakyReLU(0.1), then ``blocks`` residual blocks (key prefix ``main``)."""

    def __init__(self, in_channels: int, out_channels: int, blocks: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, padding=1),
            nn.LeakyReLU(0.1),
            nn.Sequential(*(ResidualBlock(out_channels) for _ in range(blocks))),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class PixelShuffleUp(nn.Module):
    """Conv to ``out * scale**2`` channels then pixel shuffle (key ``upsample_conv``)."""

    def __init__(self, in_channels: int, out_channels: int, scale: int, kernel: int = 3) -> None:
        super().__init__()
        self.scale = scale
        self.upsample_conv = nn.Conv2d(in_channels, out_channels * scale * scale, kernel, padding=kernel // 2)
        init_scaled_kaiming(self, 1.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pixel_shuffle(self.upsample_conv(x), self.scale)
