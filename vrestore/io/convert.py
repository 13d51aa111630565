"""RGB ndarrays <-> float tensors. No PyAV here: colour matrices are handled at decode/encode time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def images_to_clip(images: Sequence[np.ndarray], device: torch.device | str = "cpu") -> torch.Tensor:
    """Stack T RGB images (H,W,3; uint8 or uint16) into a float32 clip (1,T,3,H,W) in [0,1] on ``device``.

    The integer data is moved to the device first (pinned, non-blocking on CUDA) and converted there.
    """
    if not images:
        raise ValueError("images_to_clip needs at least one image")
    dtype = images[0].dtype
    peak = 255 if dtype == np.uint8 else 65535
    stacked = np.stack(images)
    if dtype == np.uint16:
        # torch has limited uint16 support; int32 holds 0..65535 exactly.
        stacked = stacked.astype(np.int32)
    host = torch.from_numpy(stacked)
    device = torch.device(device)
    if device.type == "cuda":
        host = host.pin_memory()
    data = host.to(device, non_blocking=True)
    clip = data.permute(0, 3, 1, 2).float().div_(peak)
    return clip.unsqueeze(0).contiguous()


def clip_to_images(clip: torch.Tensor, dtype: np.dtype = np.uint8) -> list[np.ndarray]:
    """Turn a (1,T,3,H,W) or (T,3,H,W) float clip in [0,1] into T RGB images of ``dtype`` (rounded, clamped)."""
    if clip.ndim == 5:
        if clip.shape[0] != 1:
            raise ValueError(f"clip_to_images expects batch 1, got {clip.shape[0]}")
        clip = clip[0]
    peak = 255 if np.dtype(dtype) == np.uint8 else 65535
    q = clip.float().mul(peak).round_().clamp_(0, peak)
    q = q.to(torch.uint8 if peak == 255 else torch.int32).permute(0, 2, 3, 1).contiguous().cpu().numpy()
    return [np.ascontiguousarray(frame.astype(dtype, copy=False)) for frame in q]
