"""SPyNet optical flow (Ranjan & Black 2017) with BasicSR's parameter names, so its checkpoints load as they are."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vrestore.models.common.warp import flow_warp

LEVELS = 6


def _level_module() -> nn.Sequential:
    widths = (8, 32, 64, 32, 16, 2)
    layers: list[nn.Module] = []
    for i, (cin, cout) in enumerate(zip(widths[:-1], widths[1:], strict=True)):
        layers.append(nn.Conv2d(cin, cout, 7, padding=3))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class _Level(nn.Module):
    """One pyramid level's flow refiner; the extra nesting gives the names ``basic_module.{i}.basic_module.{j}``."""

    def __init__(self) -> None:
        super().__init__()
        self.basic_module = _level_module()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.basic_module(x)


class SpyNet(nn.Module):
    """Coarse-to-fine flow from ``ref`` to ``supp`` (both N,3,H,W RGB in [0,1]): ``supp`` warped by the flow ~ ``ref``.

    Inputs are resized to multiples of 32; each side must be larger than 32 pixels.
    """

    def __init__(self) -> None:
        super().__init__()
        self.basic_module = nn.ModuleList(_Level() for _ in range(LEVELS))
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, ref: torch.Tensor, supp: torch.Tensor) -> torch.Tensor:
        """The flow (N,2,H,W), in pixels of the input size."""
        if ref.shape != supp.shape:
            raise ValueError(f"SpyNet inputs differ in shape: {tuple(ref.shape)} vs {tuple(supp.shape)}")
        h, w = ref.shape[-2:]
        h32, w32 = -(-h // 32) * 32, -(-w // 32) * 32
        ref = F.interpolate(ref, size=(h32, w32), mode="bilinear", align_corners=False)
        supp = F.interpolate(supp, size=(h32, w32), mode="bilinear", align_corners=False)
        flow = F.interpolate(self._coarse_to_fine(ref, supp), size=(h, w), mode="bilinear", align_corners=False)
        scale = torch.tensor([w / w32, h / h32], device=flow.device, dtype=flow.dtype).view(1, 2, 1, 1)
        return flow * scale

    def _coarse_to_fine(self, ref: torch.Tensor, supp: torch.Tensor) -> torch.Tensor:
        refs = [(ref - self.mean) / self.std]
        supps = [(supp - self.mean) / self.std]
        for _ in range(LEVELS - 1):
            refs.insert(0, F.avg_pool2d(refs[0], 2, 2, count_include_pad=False))
            supps.insert(0, F.avg_pool2d(supps[0], 2, 2, count_include_pad=False))
        n, _, hc, wc = refs[0].shape
        flow = refs[0].new_zeros(n, 2, hc // 2, wc // 2)
        for level, (r, s) in enumerate(zip(refs, supps, strict=True)):
            up = F.interpolate(flow, scale_factor=2, mode="bilinear", align_corners=True) * 2.0
            # Odd sizes: the upsampled flow is one row/column short; repeat the last one.
            up = F.pad(up, (0, r.shape[-1] - up.shape[-1], 0, r.shape[-2] - up.shape[-2]), mode="replicate")
            warped = flow_warp(s, up, padding="border")
            flow = self.basic_module[level](torch.cat([r, warped, up], dim=1)) + up
        return flow
