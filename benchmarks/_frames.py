"""Frames <-> tensors for the benchmarks: one way to read a clip and to convert it (a helper, not a benchmark)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from vrestore.io.frames import find_frame_files, read_image
from vrestore.io.reader import open_reader


def frames_of(source: Path) -> list[np.ndarray]:
    """All frames of a video or frame folder as uint8 RGB arrays."""
    files = find_frame_files(source) if source.is_dir() else None
    if files is not None:
        return [read_image(f) for f in files]
    return [frame.image for frame in open_reader(source)]


def clip_of(images: Iterable[np.ndarray]) -> torch.Tensor:
    """uint8 (H,W,3) images -> a (T,3,H,W) float32 clip in [0, 1]."""
    return torch.stack([torch.from_numpy(np.ascontiguousarray(i)).permute(2, 0, 1) for i in images]).float() / 255


def images_of(clip: torch.Tensor) -> list[np.ndarray]:
    """A (T,3,H,W) clip in [0, 1] -> uint8 (H,W,3) images (rounded)."""
    return list((clip.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu().numpy())
