"""SPyNet optical flow (coarse-to-fine pyramid), with BasicSR/KAIR parameter names.

Keys: ``basic_module.{0..5}.basic_module.{0,2,4,6,8}.{weight,bias}`` plus the ``mean``/``std`` buffers, so the
``spynet_sintel_final`` checkpoint (``{'params': ...}`` without the buffers) loads with ``strict=False`` on the
buffers only, and full-model checkpoints (which include them) load strictly.

``forward(ref, supp)`` gives the flow from ``ref`` to ``supp`` ([N,2,H,W], (x, y) in pixels) at input size;
``levels(ref, supp, levels)`` gives the flows of several pyramid levels (5 = finest), as VRT/RVRT use.
Inputs are RGB in [0, 1]; both sides must be larger than 32 px (the coarsest level needs >= 2 px).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from vrestore.models.common.warp import flow_warp

NUM_LEVELS = 6


class _Level(nn.Module):
    """One pyramid level: five 7x7 convs, 8 -> 32 -> 64 -> 32 -> 16 -> 2 channels."""

    def __init__(self) -> None:
        super().__init__()
        widths = (8, 32, 64, 32, 16, 2)
        layers: list[nn.Module] = []
        for i in range(5):
            layers.append(nn.Conv2d(widths[i], widths[i + 1], 7, 1, 3))
            if i < 4:
                layers.append(nn.ReLU())
        self.basic_module = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.basic_module(x)


class SpyNet(nn.Module):
    """Six-level SPyNet; see the module docstring for the calling convention."""

    def __init__(self) -> None:
        super().__init__()
        self.basic_module = nn.ModuleList(_Level() for _ in range(NUM_LEVELS))
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1))

    def forward(self, ref: torch.Tensor, supp: torch.Tensor) -> torch.Tensor:
        return self.levels(ref, supp, (NUM_LEVELS - 1,))[0]

    def levels(self, ref: torch.Tensor, supp: torch.Tensor, levels: Sequence[int]) -> list[torch.Tensor]:
        """Flows of the pyramid ``levels`` (0 coarsest .. 5 finest), finest first.

        Level ``l`` is returned at size (H // s, W // s) with s = 2**(5 - l), in pixels of that size.
        """
        if ref.shape != supp.shape:
            raise ValueError(f"ref {tuple(ref.shape)} and supp {tuple(supp.shape)} differ")
        h, w = ref.shape[-2:]
        if h <= 32 or w <= 32:
            raise ValueError(f"SpyNet needs inputs larger than 32x32 px, got {h}x{w}")
        wanted = set(levels)
        h32, w32 = math.ceil(h / 32) * 32, math.ceil(w / 32) * 32
        ref = F.interpolate(ref, size=(h32, w32), mode="bilinear", align_corners=False)
        supp = F.interpolate(supp, size=(h32, w32), mode="bilinear", align_corners=False)
        out: list[torch.Tensor] = []
        for level, flow in enumerate(self._pyramid_flows(ref, supp)):
            if level not in wanted:
                continue
            s = 2 ** (NUM_LEVELS - 1 - level)
            sized = F.interpolate(flow, size=(h // s, w // s), mode="bilinear", align_corners=False)
            factor = torch.tensor([(w // s) / (w32 // s), (h // s) / (h32 // s)], dtype=sized.dtype,
                                  device=sized.device)
            out.insert(0, sized * factor.view(1, 2, 1, 1))
        return out

    def _pyramid_flows(self, ref: torch.Tensor, supp: torch.Tensor) -> list[torch.Tensor]:
        """Flow estimates at every level, coarse to fine, at the padded (multiple of 32) resolution."""
        refs = [(ref - self.mean) / self.std]
        supps = [(supp - self.mean) / self.std]
        for _ in range(NUM_LEVELS - 1):
            refs.insert(0, F.avg_pool2d(refs[0], 2, 2, count_include_pad=False))
            supps.insert(0, F.avg_pool2d(supps[0], 2, 2, count_include_pad=False))
        n, _, h0, w0 = refs[0].shape
        flow = refs[0].new_zeros(n, 2, h0 // 2, w0 // 2)
        flows = []
        for level in range(NUM_LEVELS):
            up = F.interpolate(flow, scale_factor=2, mode="bilinear", align_corners=True) * 2.0
            # Odd sizes: the upsampled flow is one pixel short; extend it by replication.
            pad_h = refs[level].shape[2] - up.shape[2]
            pad_w = refs[level].shape[3] - up.shape[3]
            if pad_h or pad_w:
                up = F.pad(up, [0, pad_w, 0, pad_h], mode="replicate")
            warped = flow_warp(supps[level], up.permute(0, 2, 3, 1), padding_mode="border")
            flow = self.basic_module[level](torch.cat([refs[level], warped, up], dim=1)) + up
            flows.append(flow)
        return flows
