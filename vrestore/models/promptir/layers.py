"""Restormer building blocks as PromptIR uses them (attribute names follow the official checkpoint).

All convolutions are bias-free, as in the trained PromptIR and DyNet models.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _Affine(nn.Module):
    """Holds the LayerNorm scale and shift under ``body.weight`` / ``body.bias`` like the checkpoint."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.bias = nn.Parameter(torch.zeros(dim))


class ChannelNorm(nn.Module):
    """LayerNorm over the channels of every pixel (eps 1e-5, biased variance)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.body = _Affine(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.permute(0, 2, 3, 1)
        mean = y.mean(-1, keepdim=True)
        var = y.var(-1, keepdim=True, unbiased=False)
        y = (y - mean) / torch.sqrt(var + 1e-5) * self.body.weight + self.body.bias
        return y.permute(0, 3, 1, 2)


class ChannelAttention(nn.Module):
    """MDTA: attention between channels (a C x C map per head) over L2-normalised pixel vectors."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.temperature = nn.Parameter(torch.ones(heads, 1, 1))
        self.qkv = nn.Conv2d(dim, dim * 3, 1, bias=False)
        self.qkv_dwconv = nn.Conv2d(dim * 3, dim * 3, 3, padding=1, groups=dim * 3, bias=False)
        self.project_out = nn.Conv2d(dim, dim, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = (t.reshape(b, self.heads, c // self.heads, h * w) for t in self.qkv_dwconv(self.qkv(x)).chunk(3, 1))
        q = F.normalize(q, dim=-1)
        k = F.normalize(k, dim=-1)
        attn = ((q @ k.transpose(-2, -1)) * self.temperature).softmax(dim=-1)
        return self.project_out((attn @ v).reshape(b, c, h, w))


class GatedFeedForward(nn.Module):
    """GDFN: 1x1 expand, depthwise 3x3, GELU gate, 1x1 project."""

    def __init__(self, dim: int, expansion: float) -> None:
        super().__init__()
        hidden = int(dim * expansion)
        self.project_in = nn.Conv2d(dim, hidden * 2, 1, bias=False)
        self.dwconv = nn.Conv2d(hidden * 2, hidden * 2, 3, padding=1, groups=hidden * 2, bias=False)
        self.project_out = nn.Conv2d(hidden, dim, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, value = self.dwconv(self.project_in(x)).chunk(2, 1)
        return self.project_out(F.gelu(gate) * value)


class TransformerBlock(nn.Module):
    """Pre-norm residual MDTA then GDFN."""

    def __init__(self, dim: int, heads: int, expansion: float = 2.66) -> None:
        super().__init__()
        self.norm1 = ChannelNorm(dim)
        self.attn = ChannelAttention(dim, heads)
        self.norm2 = ChannelNorm(dim)
        self.ffn = GatedFeedForward(dim, expansion)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.ffn(self.norm2(x))


def blocks(dim: int, heads: int, count: int) -> nn.Sequential:
    """``count`` distinct transformer blocks in a row."""
    return nn.Sequential(*(TransformerBlock(dim, heads) for _ in range(count)))


class Downsample(nn.Module):
    """3x3 conv halving the channels, then pixel-unshuffle: (C, H, W) -> (2C, H/2, W/2)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(dim, dim // 2, 3, padding=1, bias=False), nn.PixelUnshuffle(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class Upsample(nn.Module):
    """3x3 conv doubling the channels, then pixel-shuffle: (C, H, W) -> (C/2, 2H, 2W)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(dim, dim * 2, 3, padding=1, bias=False), nn.PixelShuffle(2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class PatchEmbed(nn.Module):
    """The 3x3 input convolution (key ``patch_embed.proj``)."""

    def __init__(self, channels: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(channels, dim, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x)


class PromptGenerator(nn.Module):
    """PGM: a softmax mixture of ``length`` learned prompt maps chosen from the pooled feature.

    The mixed prompt is resized bilinearly to the feature's size and passed through a 3x3 conv.
    """

    def __init__(self, prompt_dim: int, length: int, size: int, feature_dim: int) -> None:
        super().__init__()
        self.prompt_param = nn.Parameter(torch.rand(1, length, prompt_dim, size, size))
        self.linear_layer = nn.Linear(feature_dim, length)
        self.conv3x3 = nn.Conv2d(prompt_dim, prompt_dim, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = F.softmax(self.linear_layer(x.mean(dim=(-2, -1))), dim=1)
        prompt = (weights[:, :, None, None, None] * self.prompt_param).sum(dim=1)
        prompt = F.interpolate(prompt, x.shape[-2:], mode="bilinear", align_corners=False)
        return self.conv3x3(prompt)


def interact(feature: torch.Tensor, prompt: torch.Tensor, block: nn.Module, reduce: nn.Module) -> torch.Tensor:
    """PIM: concatenate feature and prompt, one transformer block, then a 1x1 conv back down."""
    return reduce(block(torch.cat([feature, prompt], 1)))
