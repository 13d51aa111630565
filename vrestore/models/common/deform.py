"""Modulated deformable convolution (DCNv2) with mmcv's parameter layout.

On CUDA it runs torchvision's operator. On the CPU it runs :func:`sampled_deform_conv2d`, the same
arithmetic written as bilinear sampling (``grid_sample``) plus one matrix product: torchvision's CPU kernel
is 4-5x slower forward and 9-11x slower with backward (``benchmarks/deform_cpu.py``), which made it a third
of a CPU training step. ``tests/models/test_deform.py`` checks both agree in values and gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.ops import deform_conv2d

TAPS_BAND_BYTES = 4 * 2**20  # the sampled taps of one band of rows: a few MB, to stay in the CPU's cache
OffsetsOf = Callable[[int, int], tuple[torch.Tensor, torch.Tensor]]  # (top, bottom) -> (offset, mask) of those rows
_OUTSIDE = -4.0  # a grid coordinate (align_corners) at least 1.5 pixels left of the image: both corners are outside


class ModulatedDeformConv(nn.Module):
    """A 3x3-style DCNv2 layer: ``weight`` (out, in, k, k) and ``bias`` like mmcv's ``ModulatedDeformConv2d``.

    ``forward(x, offset, mask)`` takes offsets (N, 2*G*k*k, H, W) as interleaved (dy, dx) pairs per tap and
    per deformable group, and a mask (N, G*k*k, H, W), the layout mmcv and torchvision share.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, padding: int = 1,
                 deform_groups: int = 1) -> None:
        super().__init__()
        if in_channels % deform_groups:
            raise ValueError(f"{in_channels} channels cannot be split into {deform_groups} deformable groups")
        self.padding = padding
        self.deform_groups = deform_groups
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels))
        bound = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        nn.init.uniform_(self.weight, -bound, bound)

    def deform(self, x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The deformable convolution of ``x`` with the given offsets and mask, returned in ``x``'s dtype."""
        return self.deform_rows(x, _given_whole(offset, mask))

    def deform_rows(self, x: torch.Tensor, offsets_of: OffsetsOf) -> torch.Tensor:
        """The deformable convolution of ``x``, returned in ``x``'s dtype; ``offsets_of(top, bottom)`` gives the
        offsets and mask of output rows ``top:bottom``, so that a caller can compute them band by band, while
        they are in the cache (the CPU path asks for bands of rows; the others for all rows at once).

        torchvision has no bf16 kernel (and no half one on the CPU), so those run in fp32.
        """
        dtype = x.dtype
        if dtype == torch.bfloat16 or (dtype == torch.float16 and x.device.type == "cpu"):
            x = x.float()
        weight, bias = self.weight.to(x.dtype), self.bias.to(x.dtype)
        if x.device.type == "cpu" and min(x.shape[-2:]) > 1:
            # Under CPU bf16 autocast the taps are weighted and summed in bf16 (the sampling positions stay fp32).
            taps = torch.bfloat16 if _cpu_autocast_dtype() == torch.bfloat16 else x.dtype
            out = sampled_deform_rows(x, offsets_of, weight, bias, self.padding, taps_dtype=taps)
        else:
            offset, mask = offsets_of(0, x.shape[-2])
            # torchvision's CPU kernel indexes out of bounds on non-finite offsets; sample nothing there instead.
            offset = torch.nan_to_num(offset, nan=0.0, posinf=0.0, neginf=0.0)
            out = _torchvision_op(x, offset.to(x.dtype), weight, bias, mask.to(x.dtype), self.padding)
        return out.to(dtype)


def _given_whole(offset: torch.Tensor, mask: torch.Tensor) -> OffsetsOf:
    """The rows of offsets and a mask computed for the whole frame."""
    return lambda top, bottom: (offset[:, :, top:bottom], mask[:, :, top:bottom])


def _cpu_autocast_dtype() -> torch.dtype | None:
    """The CPU autocast dtype in effect, or None."""
    return torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else None


def _torchvision_op(x: torch.Tensor, offset: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                    mask: torch.Tensor, padding: int) -> torch.Tensor:
    return deform_conv2d(x, offset, weight, bias, padding=padding, mask=mask)


def sampled_deform_conv2d(x: torch.Tensor, offset: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                          mask: torch.Tensor, padding: int, *, taps_dtype: torch.dtype | None = None) -> torch.Tensor:
    """Stride-1 modulated deformable convolution, equal to ``torchvision.ops.deform_conv2d``
    (:func:`sampled_deform_rows` with the offsets and mask given whole)."""
    return sampled_deform_rows(x, _given_whole(offset, mask), weight, bias, padding, taps_dtype=taps_dtype)


def sampled_deform_rows(x: torch.Tensor, offsets_of: OffsetsOf, weight: torch.Tensor, bias: torch.Tensor,
                        padding: int, *, taps_dtype: torch.dtype | None = None) -> torch.Tensor:
    """Stride-1 modulated deformable convolution, equal to ``torchvision.ops.deform_conv2d``; ``offsets_of(top,
    bottom)`` gives the offsets (N, 2*G*k*k, bottom - top, W) and mask (N, G*k*k, bottom - top, W) of those
    output rows.

    Every tap of every deformable group is a bilinear sample of its channels at ``position + tap + offset``
    (zero outside the image, corner by corner, as torchvision does: ``grid_sample`` with zero padding and
    ``align_corners=True`` on pixel coordinates), scaled by the mask; the taps are then one matrix product
    with the weight. Needs H, W > 1 (``align_corners`` cannot address a 1-pixel side). The sampling and
    the mask product run in ``x``'s dtype, so that positions keep their sub-pixel precision; ``taps_dtype``
    (default: ``x``'s) is the precision the masked taps are rounded to and the matrix product runs in.

    The output is computed in bands of rows whose taps take about ``TAPS_BAND_BYTES``: every output pixel
    is computed exactly as in one piece, while the band's offsets and taps (nine times the input's size) stay
    in the cache between their computation, the sampling, the mask and the product.
    """
    n, c, h, w = x.shape
    out_channels, _, kh, kw = weight.shape
    taps = kh * kw
    ky, kx = torch.meshgrid(torch.arange(kh, device=x.device, dtype=x.dtype),
                            torch.arange(kw, device=x.device, dtype=x.dtype), indexing="ij")
    x_scale, y_scale = 2.0 / (w - 1), 2.0 / (h - 1)
    # Grid coordinates of every tap's undeformed position; an offset adds offset * scale (one pass per axis).
    cols = (torch.arange(w, device=x.device, dtype=x.dtype).view(1, 1, w) - padding + kx.reshape(taps, 1, 1)) \
        * x_scale - 1.0
    rows = (torch.arange(h, device=x.device, dtype=x.dtype).view(1, h, 1) - padding + ky.reshape(taps, 1, 1)) \
        * y_scale - 1.0
    low = taps_dtype or x.dtype
    kernel = weight.to(low).reshape(out_channels, c * taps)
    band = max(1, TAPS_BAND_BYTES // (n * c * taps * w * x.element_size()))
    outs = []
    for top in range(0, h, band):
        bottom = min(top + band, h)
        offset, mask = offsets_of(top, bottom)
        groups = mask.shape[1] // taps
        pairs = offset.to(x.dtype).view(n, groups, taps, 2, bottom - top, w)  # (dy, dx) per group and tap
        grid = torch.stack([torch.add(cols, pairs[:, :, :, 1], alpha=x_scale),
                            torch.add(rows[:, top:bottom], pairs[:, :, :, 0], alpha=y_scale)], dim=-1)
        # A non-finite offset samples nothing (grid_sample would spread NaN): move it outside the image.
        grid = torch.nan_to_num(grid, nan=_OUTSIDE, posinf=_OUTSIDE, neginf=_OUTSIDE)
        samples = F.grid_sample(x.reshape(n * groups, c // groups, h, w),
                                grid.view(n * groups, taps * (bottom - top), w, 2),
                                mode="bilinear", padding_mode="zeros", align_corners=True)
        weighted = _masked(samples.view(n, groups, c // groups, taps, bottom - top, w),
                           mask.to(x.dtype).view(n, groups, 1, taps, bottom - top, w), low)
        outs.append(torch.matmul(kernel, weighted.reshape(n, c * taps, (bottom - top) * w)))
    out = torch.cat(outs, dim=2) if len(outs) > 1 else outs[0]
    return out.view(n, out_channels, h, w).to(x.dtype) + bias.view(1, out_channels, 1, 1)


def _masked(samples: torch.Tensor, mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``samples * mask`` rounded to ``dtype``; ``samples`` (a fresh tensor of the caller's) is scaled in place
    when no gradient needs its values, which spares a new tensor nine times the features' size."""
    if torch.is_grad_enabled() and (samples.requires_grad or mask.requires_grad):
        return (samples * mask).to(dtype)
    return samples.mul_(mask).to(dtype)
