"""Guided deformable attention (RVRT's custom CUDA op) in pure PyTorch, built on ``grid_sample``.

For every query pixel and attention head, keys and values are bilinearly sampled (zeros outside the
frame) at a 3x3 window displaced by learned offsets, in each of the clip's frames; the query attends over
all those samples with one softmax. Offsets come per deformable group; the groups split the concatenated
[keys; values] channels, so a head's keys and values are sampled with different groups' offsets.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

# Upper bound on the sampled-column tensor per chunk (elements); rows are processed in bands below it.
MAX_COLUMN_ELEMENTS = 1 << 26


def deform_attn(
    q: torch.Tensor,
    kv: torch.Tensor,
    offset: torch.Tensor,
    heads: int,
    groups: int,
    kernel: tuple[int, int] = (3, 3),
    max_elements: int = MAX_COLUMN_ELEMENTS,
) -> torch.Tensor:
    """Attend from ``q`` (B, C, H, W) over deformably sampled ``kv`` (N, S, 2C, H, W) -> (B, C, H, W).

    ``B = N * S``; ``offset`` is (B, S * groups * kh * kw * 2, H, W) with (dy, dx) pairs per group and
    kernel point. Query frame ``b`` reads slot ``j`` from frame ``(j + b) % S`` of its clip, as the CUDA op.
    """
    batch, channels, height, width = q.shape
    clip = kv.shape[1]
    kernel_points = kernel[0] * kernel[1]
    per_row = batch * 2 * channels * clip * kernel_points * width
    band = max(1, min(height, max_elements // max(per_row, 1)))
    bands = [
        _attend_rows(q, kv, offset, heads, groups, kernel, top, min(top + band, height))
        for top in range(0, height, band)
    ]
    return bands[0] if len(bands) == 1 else torch.cat(bands, dim=2)


def _attend_rows(
    q: torch.Tensor,
    kv: torch.Tensor,
    offset: torch.Tensor,
    heads: int,
    groups: int,
    kernel: tuple[int, int],
    top: int,
    bottom: int,
) -> torch.Tensor:
    """The op's output rows ``top:bottom`` (every source row stays available for sampling)."""
    batch, channels, height, width = q.shape
    clip = kv.shape[1]
    kernel_points = kernel[0] * kernel[1]
    rows = bottom - top
    head_dim = channels // heads
    frames = torch.arange(batch, device=q.device)
    offsets = offset[:, :, top:bottom].view(batch, clip, groups, kernel_points, 2, rows, width)
    base_y, base_x = _window_grid(kernel, top, rows, width, q)
    columns = []
    for slot in range(clip):
        source = kv[frames // clip, (frames + slot) % clip]  # (B, 2C, H, W)
        source = source.reshape(batch * groups, 2 * channels // groups, height, width)
        dy = offsets[:, slot, :, :, 0]  # (B, G, K, rows, W)
        dx = offsets[:, slot, :, :, 1]
        y = base_y + dy
        x = base_x + dx
        grid = torch.stack((2 * x / max(width - 1, 1) - 1, 2 * y / max(height - 1, 1) - 1), dim=-1)
        grid = grid.reshape(batch * groups, kernel_points * rows, width, 2)
        sampled = F.grid_sample(source, grid, mode="bilinear", padding_mode="zeros", align_corners=True)
        columns.append(sampled.view(batch, 2 * channels, kernel_points, rows, width))
    # (B, 2, heads, head_dim, S*K, rows, W): slot-major sample order, as the CUDA op orders its columns.
    samples = torch.stack(columns, dim=2).view(batch, 2, heads, head_dim, clip * kernel_points, rows, width)
    keys, values = samples[:, 0], samples[:, 1]
    query = q[:, :, top:bottom].reshape(batch, heads, head_dim, 1, rows, width) * head_dim**-0.5
    weights = (query * keys).sum(2).softmax(dim=2)  # (B, heads, S*K, rows, W)
    out = (weights.unsqueeze(2) * values).sum(3)
    return out.reshape(batch, channels, rows, width)


def _window_grid(
    kernel: tuple[int, int], top: int, rows: int, width: int, like: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel coordinates of the undisplaced window points, shaped (1, 1, K, rows, W) each."""
    kh, kw = kernel
    ky = torch.arange(kh, dtype=like.dtype, device=like.device) - kh // 2
    kx = torch.arange(kw, dtype=like.dtype, device=like.device) - kw // 2
    ys = torch.arange(top, top + rows, dtype=like.dtype, device=like.device)
    xs = torch.arange(width, dtype=like.dtype, device=like.device)
    base_y = (ky.view(kh, 1, 1, 1) + ys.view(1, 1, rows, 1)).expand(kh, kw, rows, width)
    base_x = (kx.view(1, kw, 1, 1) + xs.view(1, 1, 1, width)).expand(kh, kw, rows, width)
    shape = (1, 1, kh * kw, rows, width)
    return base_y.reshape(shape), base_x.reshape(shape)
