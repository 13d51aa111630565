"""SpyNet optical flow as RVRT embeds it (finest level only), with RVRT's key names."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def flow_warp(x: torch.Tensor, flow: torch.Tensor, padding_mode: str = "zeros") -> torch.Tensor:
    """Sample ``x`` (N, C, H, W) at pixel + ``flow`` (N, 2, H, W; x then y), bilinear, align_corners=True."""
    _, _, h, w = x.shape
    ys, xs = torch.meshgrid(
        torch.arange(h, dtype=x.dtype, device=x.device), torch.arange(w, dtype=x.dtype, device=x.device), indexing="ij"
    )
    gx = 2.0 * (xs + flow[:, 0]) / max(w - 1, 1) - 1.0
    gy = 2.0 * (ys + flow[:, 1]) / max(h - 1, 1) - 1.0
    grid = torch.stack((gx, gy), dim=3)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=True)


class _Level(nn.Module):
    """One pyramid level's flow-residual CNN: 8 -> 32 -> 64 -> 32 -> 16 -> 2 channels, 7x7 kernels."""

    def __init__(self) -> None:
        super().__init__()
        widths = (8, 32, 64, 32, 16, 2)
        layers: list[nn.Module] = []
        for i in range(5):
            layers.append(nn.Conv2d(widths[i], widths[i + 1], 7, padding=3))
            if i < 4:
                layers.append(nn.ReLU())
        self.basic_module = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.basic_module(x)


class SpyNet(nn.Module):
    """Coarse-to-fine flow over a 6-level pyramid; ``forward(ref, supp)`` warps ``supp`` onto ``ref``."""

    def __init__(self) -> None:
        super().__init__()
        self.basic_module = nn.ModuleList(_Level() for _ in range(6))
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, ref: torch.Tensor, supp: torch.Tensor) -> torch.Tensor:
        h, w = ref.shape[-2:]
        hp, wp = math.ceil(h / 32) * 32, math.ceil(w / 32) * 32
        refs = [(F.interpolate(ref, size=(hp, wp), mode="bilinear", align_corners=False) - self.mean) / self.std]
        supps = [(F.interpolate(supp, size=(hp, wp), mode="bilinear", align_corners=False) - self.mean) / self.std]
        for _ in range(5):
            refs.insert(0, F.avg_pool2d(refs[0], 2, 2, count_include_pad=False))
            supps.insert(0, F.avg_pool2d(supps[0], 2, 2, count_include_pad=False))
        flow = refs[0].new_zeros(ref.shape[0], 2, refs[0].shape[2] // 2, refs[0].shape[3] // 2)
        for level, (r, s) in enumerate(zip(refs, supps, strict=True)):
            up = F.interpolate(flow, scale_factor=2, mode="bilinear", align_corners=True) * 2.0
            if up.shape[2] != r.shape[2]:
                up = F.pad(up, (0, 0, 0, 1), mode="replicate")
            if up.shape[3] != r.shape[3]:
                up = F.pad(up, (0, 1, 0, 0), mode="replicate")
            warped = flow_warp(s, up, padding_mode="border")
            flow = self.basic_module[level](torch.cat([r, warped, up], 1)) + up
        flow = F.interpolate(flow, size=(h, w), mode="bilinear", align_corners=False)
        return torch.stack((flow[:, 0] * (w / wp), flow[:, 1] * (h / hp)), dim=1)
