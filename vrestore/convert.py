"""RGB ndarrays <-> float tensors. No PyAV here: colour matrices are handled at decode/encode time.

Each direction is split in two so that the engine can overlap them with inference: ``stack_images`` (host
only) then ``host_to_clip`` (on the device); ``quantize`` (on the device) then ``host_to_images`` (host).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch


def peak_of(dtype: np.dtype) -> int:
    """The white level of an integer image dtype: 255 for uint8, 65535 for uint16."""
    return 255 if np.dtype(dtype) == np.uint8 else 65535


def to_depth(image: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """``image`` (uint8 or uint16 RGB) at the sample type ``dtype``: 8 <-> 16 bits by the factor 257, rounded."""
    dtype = np.dtype(dtype)
    if image.dtype == dtype:
        return image
    if dtype == np.uint16:
        return image.astype(np.uint16) * np.uint16(257)
    return np.rint(image.astype(np.float32) / 257.0).astype(np.uint8)


def image_to_tensor(image: np.ndarray) -> torch.Tensor:
    """One (H,W,3) uint8/uint16 RGB image -> (3,H,W) float32 in [0,1] (on the CPU)."""
    data = image.astype(np.float32) if image.dtype == np.uint16 else image
    return torch.from_numpy(np.ascontiguousarray(data)).permute(2, 0, 1).float().div_(peak_of(image.dtype))


def tensor_to_image(x: torch.Tensor, dtype: np.dtype) -> np.ndarray:
    """One (3,H,W) float image in [0,1] -> (H,W,3) RGB of ``dtype`` (uint8 or uint16), rounded and clamped."""
    peak = float(peak_of(dtype))
    q = (x.detach().float().cpu() * peak).round_().clamp_(0, peak).permute(1, 2, 0).numpy()
    return np.ascontiguousarray(q.astype(dtype))


def stack_images(images: Sequence[np.ndarray], *, pin: bool = False) -> torch.Tensor:
    """Stack T RGB images (H,W,3; uint8 or uint16) into one host tensor (T,H,W,3), uint8 or int32.

    ``pin`` puts it in page-locked memory so that a non-blocking copy to a CUDA device is truly asynchronous.
    """
    if not images:
        raise ValueError("stack_images needs at least one image")
    stacked = np.stack(images)
    if stacked.dtype == np.uint16:
        # torch has limited uint16 support; int32 holds 0..65535 exactly.
        stacked = stacked.astype(np.int32)
    host = torch.from_numpy(stacked)
    return host.pin_memory() if pin else host


def host_to_clip(host: torch.Tensor, peak: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """Copy a stacked host tensor (T,H,W,3) to ``device`` (non-blocking) -> float32 clip (1,T,3,H,W) in [0,1]."""
    data = host.to(device, non_blocking=True)
    return data.permute(0, 3, 1, 2).float().div_(peak).unsqueeze(0).contiguous()


def images_to_clip(images: Sequence[np.ndarray], device: torch.device | str = "cpu") -> torch.Tensor:
    """Stack T RGB images (H,W,3; uint8 or uint16) into a float32 clip (1,T,3,H,W) in [0,1] on ``device``.

    The integer data is moved to the device first (pinned, non-blocking on CUDA) and converted there.
    """
    device = torch.device(device)
    host = stack_images(images, pin=device.type == "cuda")
    return host_to_clip(host, peak_of(images[0].dtype), device)


def quantize(clip: torch.Tensor, dtype: np.dtype = np.uint8) -> torch.Tensor:
    """A (1,T,3,H,W) or (T,3,H,W) float clip in [0,1] -> integer images (T,H,W,3) on the same device.

    Rounded and clamped to ``dtype``'s range; uint8 or, for uint16, int32 (torch lacks uint16 arithmetic).
    """
    if clip.ndim == 5:
        if clip.shape[0] != 1:
            raise ValueError(f"quantize expects batch 1, got {clip.shape[0]}")
        clip = clip[0]
    peak = peak_of(dtype)
    q = clip.float().mul(peak).round_().clamp_(0, peak)
    return q.to(torch.uint8 if peak == 255 else torch.int32).permute(0, 2, 3, 1).contiguous()


def host_to_images(host: torch.Tensor, dtype: np.dtype = np.uint8) -> list[np.ndarray]:
    """Split quantised host images (T,H,W,3) into T contiguous RGB arrays of ``dtype``."""
    return [np.ascontiguousarray(frame.astype(dtype, copy=False)) for frame in host.numpy()]


def clip_to_images(clip: torch.Tensor, dtype: np.dtype = np.uint8) -> list[np.ndarray]:
    """Turn a (1,T,3,H,W) or (T,3,H,W) float clip in [0,1] into T RGB images of ``dtype`` (rounded, clamped)."""
    return host_to_images(quantize(clip, dtype).cpu(), dtype)
