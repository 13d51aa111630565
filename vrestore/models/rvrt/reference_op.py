"""Reference for RVRT's deformable attention, written from the CUDA kernel's loops (no grid_sample).

It mirrors ``deform_attn_cuda_forward`` and ``modulated_deformable_im2col_gpu_kernel`` +
``dmcn_im2col_bilinear`` (mask of ones, stride 1, dilation 1, pad kernel//2): per query frame ``b`` and
slot ``n`` it im2cols ``kv[b // S][(n + b) % S]``, then does one softmax attention per head over the
``S * K`` columns. Slow; for tests and golden generation only. Also usable as a drop-in for the compiled
extension's ``deform_attn_forward`` (see :func:`extension_forward`).
"""

from __future__ import annotations

import torch


def _bilinear(image: torch.Tensor, h: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``dmcn_im2col_bilinear`` for every channel of ``image`` (C, H, W) at float positions h, w (P,)."""
    height, width = image.shape[-2:]
    h_low = torch.floor(h).long()
    w_low = torch.floor(w).long()
    h_high, w_high = h_low + 1, w_low + 1
    lh, lw = h - h_low, w - w_low
    hh, hw = 1 - lh, 1 - lw

    def corner(hi: torch.Tensor, wi: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        flat = (hi.clamp(0, height - 1) * width + wi.clamp(0, width - 1))
        values = image.reshape(image.shape[0], -1)[:, flat]
        return values * valid

    v1 = corner(h_low, w_low, (h_low >= 0) & (w_low >= 0))
    v2 = corner(h_low, w_high, (h_low >= 0) & (w_high <= width - 1))
    v3 = corner(h_high, w_low, (h_high <= height - 1) & (w_low >= 0))
    v4 = corner(h_high, w_high, (h_high <= height - 1) & (w_high <= width - 1))
    value = hh * hw * v1 + hh * lw * v2 + lh * hw * v3 + lh * lw * v4
    inside = (h > -1) & (w > -1) & (h < height) & (w < width)  # the im2col kernel's range test
    return value * inside


def _im2col(image: torch.Tensor, offset: torch.Tensor, groups: int, kh: int, kw: int) -> torch.Tensor:
    """Deformable im2col of ``image`` (C, H, W) with ``offset`` (G*K*2, H, W) -> (C*K, H*W), row c*K + k."""
    channels, height, width = image.shape
    per_group = channels // groups
    offset = offset.view(groups, kh * kw, 2, height * width)
    out_h = torch.arange(height, dtype=image.dtype).repeat_interleave(width)
    out_w = torch.arange(width, dtype=image.dtype).repeat(height)
    columns = image.new_zeros(channels, kh * kw, height * width)
    for g in range(groups):
        chunk = image[g * per_group:(g + 1) * per_group]
        for i in range(kh):
            for j in range(kw):
                k = i * kw + j
                h_im = out_h - kh // 2 + i + offset[g, k, 0]
                w_im = out_w - kw // 2 + j + offset[g, k, 1]
                columns[g * per_group:(g + 1) * per_group, k] = _bilinear(chunk, h_im, w_im)
    return columns.reshape(channels * kh * kw, height * width)


def reference_deform_attn(
    q: torch.Tensor, kv: torch.Tensor, offset: torch.Tensor, kh: int, kw: int, heads: int, groups: int, clip: int
) -> torch.Tensor:
    """q (B, 1, C, H, W), kv (B/S, S, 2C, H, W), offset (B, S*G*K*2, H, W) -> (B, C, H, W)."""
    batch = q.shape[0]
    channels, height, width = q.shape[-3:]
    area = height * width
    head_dim = channels // heads
    kernel_points = kh * kw
    q = q.reshape(batch, heads, head_dim, area).permute(0, 1, 3, 2).unsqueeze(3) * head_dim**-0.5
    offset = offset.reshape(batch, clip, -1, height, width)
    out = q.new_zeros(batch, heads, head_dim, area)
    for b in range(batch):
        columns = torch.stack(
            [_im2col(kv[b // clip, (n + b) % clip], offset[b, n], groups, kh, kw) for n in range(clip)]
        )
        columns = columns.view(clip, 2, heads, head_dim, kernel_points, area).permute(1, 2, 5, 3, 0, 4).flatten(4)
        attn = (q[b] @ columns[0]).softmax(-1)  # heads, area, 1, S*K
        out[b] = (attn @ columns[1].transpose(2, 3)).squeeze(2).transpose(1, 2)
    return out.reshape(batch, channels, height, width)


def extension_forward(q, kv, offset, output, _columns, _attns, _ones, kernel_h, kernel_w, _stride_h, _stride_w,
                      _pad_h, _pad_w, _dil_h, _dil_w, heads, groups, clip) -> None:
    """Same signature as the compiled ``deform_attn_ext.deform_attn_forward``: fills ``output`` in place."""
    with torch.no_grad():
        result = reference_deform_attn(q, kv, offset, kernel_h, kernel_w, heads, groups, clip)
    output.copy_(result.view(output.shape))
