"""Backward warping of images or features by a dense optical flow."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def flow_warp(
    x: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear", padding_mode: str = "zeros"
) -> torch.Tensor:
    """Sample ``x`` [N,C,H,W] at ``pixel + flow``; ``flow`` is [N,H,W,2] in pixels, (x, y) order.

    Uses ``align_corners=True`` grid normalisation, as BasicSR-family networks were trained with.
    ``mode`` is bilinear or nearest; ``padding_mode`` zeros, border or reflection.
    """
    if x.shape[-2:] != flow.shape[1:3]:
        raise ValueError(f"flow {tuple(flow.shape)} does not match features {tuple(x.shape)}")
    h, w = x.shape[-2:]
    ys = torch.arange(h, device=x.device, dtype=flow.dtype)
    xs = torch.arange(w, device=x.device, dtype=flow.dtype)
    grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
    gx = 2.0 * (grid_x + flow[..., 0]) / max(w - 1, 1) - 1.0
    gy = 2.0 * (grid_y + flow[..., 1]) / max(h - 1, 1) - 1.0
    grid = torch.stack((gx, gy), dim=-1).to(x.dtype)
    return F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=True)
