"""Backward warping of images or feature maps by an optical flow field."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def flow_warp(x: torch.Tensor, flow: torch.Tensor, *, mode: str = "bilinear", padding: str = "zeros") -> torch.Tensor:
    """Sample ``x`` (N,C,H,W) at ``pixel + flow``; ``flow`` is (N,2,H,W) in pixels, channel 0 = x, 1 = y.

    Pixel centres map to [-1, 1] with ``align_corners=True`` (the BasicSR convention its models were trained with).
    """
    n, _, h, w = x.shape
    if flow.shape[-2:] != (h, w):
        raise ValueError(f"flow size {tuple(flow.shape[-2:])} differs from the feature size {(h, w)}")
    ys = torch.arange(h, device=x.device, dtype=flow.dtype)
    xs = torch.arange(w, device=x.device, dtype=flow.dtype)
    gx = (xs.view(1, 1, w) + flow[:, 0]) * (2.0 / max(w - 1, 1)) - 1.0
    gy = (ys.view(1, h, 1) + flow[:, 1]) * (2.0 / max(h - 1, 1)) - 1.0
    grid = torch.stack((gx, gy), dim=-1)
    return F.grid_sample(x, grid.to(x.dtype), mode=mode, padding_mode=padding, align_corners=True)
