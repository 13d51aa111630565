"""Training samples cut from a pool of pre-degraded segments, so that a step only crops.

Degrading on the fly costs a TUD schedule per sample (noise, blur, JPEG and H.264 encodes...): on two CPU
cores about a fifth of a step of the CPU recipe. The pool degrades fewer, larger pieces once and cuts many
samples from each:

- A *segment* is ``2 * frames`` consecutive frames of one clip, cropped to ``2 * crop`` pixels square (or the
  clip's shorter side when smaller), degraded with its own TUD schedule (interval, offset, weather drawn as for
  an on-the-fly sample), then passed through the model's input filter if it has one (the whole segment, so
  that a motion average sees the neighbours a video would give it).
- A *generation* is ``pool`` segments. Samples ``[g * G, (g + 1) * G)`` with ``G = pool * pool_reuse`` come
  from generation ``g``, so every segment yields ``pool_reuse`` samples on average and the pool is rebuilt
  every ``G`` samples (a pause of ``pool`` degradations).
- A sample picks a segment, ``frames`` consecutive frames of it (time-reversed half of the time), a ``crop``
  square, and the flips/transposition of an on-the-fly sample, applied alike to the degraded and the clean
  segment.

Exactness: generation ``g`` is a pure function of ``(seed, g)`` and sample ``i`` of ``(seed, i)`` given its
generation, so a sample is still a pure function of ``(seed, i)``: resuming and DataLoader workers behave as
with on-the-fly samples (each worker builds the generations it needs itself; with a pool prefer
``workers: 0``, the degradation is no longer worth a process). What changes is the statistics: one
degradation schedule serves ``pool_reuse`` samples (different crops, frames and flips of it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from vrestore.train.config import DataConfig
from vrestore.train.data import (
    InputFilter,
    TrainSamples,
    augment,
    degrade_clip,
    draw_degradation,
    model_input,
    pick_frames,
    pick_sample_frames,
    to_tensor,
)

_GENERATION_STREAM = 7_000_001  # keeps generation draws apart from the sample draws [seed, index]


class PooledSamples(TrainSamples):
    """Sample ``i`` = (degraded, clean) clips of shape (frames,3,crop,crop), cut from a pre-degraded pool.

    The clips and their draw weights are those of :class:`TrainSamples`; only the way a sample is made differs.
    """

    def __init__(self, clips: Sequence[np.ndarray], config: DataConfig, seed: int, length: int,
                 input_filter: InputFilter | None = None) -> None:
        if config.pool < 1:
            raise ValueError("PooledSamples needs data.pool >= 1")
        super().__init__(clips, config, seed, length, input_filter)
        self.per_generation = config.pool * config.pool_reuse
        self._generation: int | None = None
        self._segments: list[tuple[np.ndarray, np.ndarray]] = []

    def segments(self, generation: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """The (degraded, clean) uint8 segments of ``generation``, built on first use (one generation is kept)."""
        if generation != self._generation:
            self._segments = [self._segment(generation, k) for k in range(self.config.pool)]
            self._generation = generation
        return self._segments

    def _segment(self, generation: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        rng = np.random.default_rng([self.seed, _GENERATION_STREAM, generation, k])
        clip = self.clips[int(rng.choice(len(self.clips), p=self.weights))]
        frames = pick_sample_frames(len(clip), 2 * cfg.frames, cfg.still, rng)
        h, w = clip.shape[1:3]
        side = min(2 * cfg.crop, h, w) // 2 * 2  # even: the H.264 operator needs even sizes
        y, x = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
        clean = np.ascontiguousarray(clip[frames, y : y + side, x : x + side])
        return model_input(degrade_clip(clean, rng, **draw_degradation(cfg, rng)), self.input_filter), clean

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        segments = self.segments(index // self.per_generation)
        rng = np.random.default_rng([self.seed, index])
        degraded, clean = segments[int(rng.integers(len(segments)))]
        frames = pick_frames(len(clean), cfg.frames, rng)
        side = clean.shape[1]
        y, x = int(rng.integers(side - cfg.crop + 1)), int(rng.integers(side - cfg.crop + 1))
        window = (frames, slice(y, y + cfg.crop), slice(x, x + cfg.crop))
        degraded, clean = augment([degraded[window], clean[window]], rng)
        return to_tensor(degraded), to_tensor(clean)
