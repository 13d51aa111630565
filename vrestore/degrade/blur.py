"""Blur: the random mixed kernels of Real-ESRGAN/BasicSR (as the TUD protocol draws them) and resize blur.

Kernel formulas (our own code, from the published definitions): with the covariance
``S = R diag(sx^2, sy^2) R^T`` and ``q = x^T S^-1 x`` on the integer grid ``-k//2+1 .. k//2``:
Gaussian ``exp(-q/2)``, generalized Gaussian ``exp(-q^beta/2)``, plateau ``1/(1+q^beta)``; normalised to sum 1.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from vrestore.degrade._tensor import from_float_hwc, per_frame, to_float_hwc

#: Kernel families and the TUD protocol's weights for them (they sum to 0.9; drawn normalised, as
#: Python's ``random.choices`` does in the official code).
KERNEL_TYPES: tuple[str, ...] = (
    "iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso",
)
KERNEL_PROBS: tuple[float, ...] = (0.405, 0.225, 0.108, 0.027, 0.108, 0.027)
RESIZE_MODES: tuple[str, ...] = ("area", "bilinear", "bicubic")


def kernel(kind: str, size: int, sigma_x: float, sigma_y: float, rotation: float, beta: float = 1.0) -> np.ndarray:
    """A ``size`` x ``size`` float64 blur kernel of family ``kind`` that sums to 1."""
    if kind not in KERNEL_TYPES:
        raise ValueError(f"unknown kernel type {kind!r}")
    if kind.endswith("iso") and not kind.endswith("aniso"):
        sigma_y, rotation = sigma_x, 0.0
    cos, sin = math.cos(rotation), math.sin(rotation)
    rot = np.array([[cos, -sin], [sin, cos]])
    cov = rot @ np.diag([sigma_x**2, sigma_y**2]) @ rot.T
    inv = np.linalg.inv(cov)
    ax = np.arange(-size // 2 + 1.0, size // 2 + 1.0)
    xx, yy = np.meshgrid(ax, ax)
    grid = np.stack([xx, yy], axis=-1)
    q = np.einsum("hwi,ij,hwj->hw", grid, inv, grid)
    if kind.startswith("generalized"):
        k = np.exp(-0.5 * np.power(q, beta))
    elif kind.startswith("plateau"):
        k = 1.0 / (1.0 + np.power(q, beta))
    else:
        k = np.exp(-0.5 * q)
    return k / k.sum()


def apply_kernel(x: torch.Tensor, k: np.ndarray) -> torch.Tensor:
    """Filter each frame with ``k`` (OpenCV filter2D in float32, reflect-101 border), clamped to [0,1]."""
    k32 = np.asarray(k, dtype=np.float32)

    def one(frame: torch.Tensor) -> torch.Tensor:
        out = cv2.filter2D(to_float_hwc(frame), -1, k32, borderType=cv2.BORDER_REFLECT_101)
        return from_float_hwc(out.reshape(frame.shape[1], frame.shape[2], -1), frame)

    return per_frame(x, one)


def resize_blur(x: torch.Tensor, direction: str, scale: float, mode: str) -> torch.Tensor:
    """Resize by ``scale`` with ``mode`` and back to the original size with bicubic; "keep" is the identity."""
    if direction == "keep":
        return x.clone()
    if mode not in RESIZE_MODES:
        raise ValueError(f"unknown resize mode {mode!r}")

    def one(frame: torch.Tensor) -> torch.Tensor:
        h, w = frame.shape[-2:]
        mid = F.interpolate(frame[None].float(), scale_factor=scale, mode=mode)
        back = F.interpolate(mid, size=(h, w), mode="bicubic")
        return back[0].clamp(0, 1).to(frame.dtype)

    return per_frame(x, one)
