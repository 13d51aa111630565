"""Modulated deformable convolution (DCNv2) on torchvision's operator, with mmcv's parameter layout."""

from __future__ import annotations

import math

import torch
from torch import nn
from torchvision.ops import deform_conv2d


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
        """The deformable convolution of ``x``, returned in ``x``'s dtype.

        torchvision has no bf16 kernel (and no half one on the CPU), so those run in fp32.
        """
        dtype = x.dtype
        # torchvision's CPU kernel indexes out of bounds on non-finite offsets; sample nothing there instead.
        offset = torch.nan_to_num(offset, nan=0.0, posinf=0.0, neginf=0.0)
        if dtype == torch.bfloat16 or (dtype == torch.float16 and x.device.type == "cpu"):
            x = x.float()
        weight, bias = self.weight.to(x.dtype), self.bias.to(x.dtype)
        out = deform_conv2d(x, offset.to(x.dtype), weight, bias, padding=self.padding, mask=mask.to(x.dtype))
        return out.to(dtype)
