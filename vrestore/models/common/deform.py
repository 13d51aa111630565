"""Modulated deformable convolution (DCNv2) on ``torchvision.ops.deform_conv2d``, with mmcv's parameter layout.

mmcv's ``ModulatedDeformConv2d`` stores ``weight`` [out, in/groups, k, k] and ``bias`` [out]; offsets are
[N, 2*G*k*k, H, W] with interleaved (dy, dx) pairs per tap, grouped by deformable group, and the mask is
[N, G*k*k, H, W]. torchvision's op takes exactly that layout, so no reordering is needed.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torchvision.ops import deform_conv2d

# Dtypes the torchvision kernels implement on every device; others (bf16, and fp16 on CPU) are computed in fp32.
_NATIVE = (torch.float32, torch.float64)


class ModulatedDeformConv2d(nn.Module):
    """DCNv2 layer; subclasses compute ``offset`` and ``mask`` and call :meth:`deform`."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, *, stride: int = 1, padding: int = 0,
        dilation: int = 1, groups: int = 1, deform_groups: int = 1, bias: bool = True,
    ) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.deform_groups = deform_groups
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels // groups, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        stdv = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        nn.init.uniform_(self.weight, -stdv, stdv)

    def deform(self, x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The modulated deformable convolution of ``x`` (output in ``x``'s dtype)."""
        dtype = x.dtype
        # torchvision's CPU kernel indexes out of bounds (crashes) on non-finite offsets; sample nothing instead.
        offset = torch.nan_to_num(offset, nan=0.0, posinf=0.0, neginf=0.0)
        compute = dtype if dtype in _NATIVE else torch.float32
        with torch.autocast(device_type=x.device.type, enabled=False):
            out = deform_conv2d(
                x.to(compute), offset.to(compute), self.weight.to(compute),
                None if self.bias is None else self.bias.to(compute),
                stride=self.stride, padding=self.padding, dilation=self.dilation, mask=mask.to(compute),
            )
        return out.to(dtype)

    def forward(self, x: torch.Tensor, offset: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.deform(x, offset, mask)
