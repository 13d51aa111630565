"""Reusable check: does a model restore as well in fp16/bf16 as in fp32? (PSNR against the clean frames)

Usage (also for real models on a GPU; ``clean`` is a list of decoded ``Frame``s of a real clip):

    noisy = add_noise(clean, sigma=25)
    gap = precision_gap(lambda dtype: load_model("pgdenet", device="cuda", dtype=dtype), clean, noisy, "bf16")
    assert gap.gap_db <= 0.02, gap

The degraded frames go through the whole engine (``restore_frames``: windows, tiles, blending, 8-bit
output), so the gap is what a user would see between ``--dtype fp32`` and ``--dtype bf16``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from vrestore.engine.runner import restore_frames
from vrestore.frame import Frame
from vrestore.metrics.psnr import psnr
from vrestore.models.loaded import LoadedModel
from vrestore.options import ClipOptions, TileOptions


@dataclass(frozen=True)
class PrecisionGap:
    """Mean PSNR (dB) of the fp32 and of the low-precision restoration against the clean frames."""

    dtype: str
    psnr_fp32: float
    psnr_low: float
    psnr_between: float  # low-precision output vs fp32 output

    @property
    def gap_db(self) -> float:
        return abs(self.psnr_fp32 - self.psnr_low)


def add_noise(frames: Sequence[Frame], sigma: float, seed: int = 0) -> list[Frame]:
    """Gaussian noise of ``sigma`` (0-255 scale), seeded, rounded back to the frames' integer type."""
    rng = np.random.default_rng(seed)
    out = []
    for frame in frames:
        image = frame.image
        peak = np.iinfo(image.dtype).max
        noisy = image + rng.normal(0.0, sigma * peak / 255, image.shape)
        out.append(frame.with_image(np.clip(np.rint(noisy), 0, peak).astype(image.dtype)))
    return out


def mean_psnr(a: Sequence[Frame], b: Sequence[Frame]) -> float:
    """Mean over frames of the RGB PSNR between two frame lists (same sizes)."""
    peak = float(np.iinfo(a[0].image.dtype).max)
    x = torch.from_numpy(np.stack([f.image for f in a])).permute(0, 3, 1, 2)
    y = torch.from_numpy(np.stack([f.image for f in b])).permute(0, 3, 1, 2)
    values = psnr(x, y, peak)
    return float(values[torch.isfinite(values)].mean()) if torch.isfinite(values).any() else float("inf")


def precision_gap(
    load: Callable[[str], LoadedModel],
    clean: Sequence[Frame],
    degraded: Sequence[Frame],
    dtype: str,
    *,
    tile: TileOptions | None = None,
    clip: ClipOptions | None = None,
) -> PrecisionGap:
    """Restore ``degraded`` with ``load("fp32")`` and ``load(dtype)``; compare both with ``clean``."""
    reference = list(restore_frames(list(degraded), load("fp32"), tile, clip))
    low = list(restore_frames(list(degraded), load(dtype), tile, clip))
    return PrecisionGap(dtype, mean_psnr(reference, clean), mean_psnr(low, clean), mean_psnr(low, reference))
