"""Small tensor helpers shared by the degradation ops: per-frame mapping and uint8 round trips."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


def per_frame(x: torch.Tensor, fn: Callable[[torch.Tensor], torch.Tensor]) -> torch.Tensor:
    """Apply ``fn`` to a (C,H,W) frame, or to each frame of a (T,C,H,W) stack."""
    if x.ndim == 3:
        return fn(x)
    if x.ndim == 4:
        return torch.stack([fn(frame) for frame in x])
    raise ValueError(f"expected a (C,H,W) or (T,C,H,W) tensor, got shape {tuple(x.shape)}")


def to_uint8_hwc(frame: torch.Tensor) -> np.ndarray:
    """(3,H,W) float in [0,1] -> (H,W,3) uint8, as the TUD script quantises (x*255+0.5, truncated)."""
    q = (frame.detach().float().cpu() * 255.0 + 0.5).clamp_(0, 255).to(torch.uint8)
    return np.ascontiguousarray(q.permute(1, 2, 0).numpy())


def from_uint8_hwc(image: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """(H,W,3) uint8 -> (3,H,W) float in [0,1] with the dtype and device of ``like``."""
    t = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
    return t.to(device=like.device, dtype=like.dtype) / 255.0


def to_float_hwc(frame: torch.Tensor) -> np.ndarray:
    """(C,H,W) tensor -> (H,W,C) float32 numpy array."""
    return np.ascontiguousarray(frame.detach().float().cpu().permute(1, 2, 0).numpy())


def from_float_hwc(image: np.ndarray, like: torch.Tensor) -> torch.Tensor:
    """(H,W,C) float array -> (C,H,W) tensor like ``like``, clamped to [0,1]."""
    t = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
    return t.to(device=like.device, dtype=like.dtype).clamp_(0, 1)
