"""Training data: clean clips in memory, and samples cut, augmented and degraded on the fly.

A sample is a pure function of ``(seed, index)``: the clip, the crop, the flips and the degradation
schedule are all drawn from ``numpy.random.default_rng([seed, index])``. So DataLoader workers need no
shared state, and resuming at step ``s`` is just starting the sample index at ``s * batch_size``.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from vrestore.convert import to_depth
from vrestore.degrade.pipeline import degrade_stream
from vrestore.degrade.schedule import FramePlan, Schedule
from vrestore.degrade.spec import OpSpec
from vrestore.errors import UsageError
from vrestore.frame import Frame
from vrestore.io.frames import find_frame_files, is_image_file, natural_key, read_image
from vrestore.io.info import VIDEO_SUFFIXES
from vrestore.train.config import DataConfig

WEATHER = ("rain", "snow", "haze")
InputFilter = Callable[[np.ndarray], np.ndarray]  # degraded (T,H,W,3) uint8 -> what the model sees


def find_clips(sources: Sequence[str | Path]) -> list[Path]:
    """Expand recipe entries into clips: frame folders (also nested one level), videos, globs of either."""
    clips: list[Path] = []
    for source in sources:
        text = os.fspath(source)
        matches = sorted(glob.glob(text), key=natural_key) if any(c in text for c in "*?[") else [text]
        if not matches:
            raise UsageError(f"training clips '{text}' match nothing; check the path in the recipe")
        for match in map(Path, matches):
            clips.extend(_clips_in(match))
    if not clips:
        raise UsageError(f"no training clips found in {', '.join(map(str, sources))}")
    return clips


def _clips_in(path: Path) -> list[Path]:
    if path.is_file():
        if path.suffix.lower() in VIDEO_SUFFIXES:
            return [path]
        raise UsageError(f"'{path}' is neither a video nor a folder of frames; remove it from the recipe")
    if not path.is_dir():
        raise UsageError(f"training clips '{path}' do not exist; check the path in the recipe")
    children = sorted(path.iterdir(), key=natural_key)
    if any(is_image_file(child) for child in children):
        return [path]
    found = [c for c in children if (c.is_dir() and any(is_image_file(f) for f in c.iterdir()))
             or c.suffix.lower() in VIDEO_SUFFIXES]
    if not found:
        raise UsageError(f"folder '{path}' holds no frames, frame folders or videos")
    return found


def load_clip(path: Path, max_side: int | None = None, max_frames: int | None = None) -> np.ndarray:
    """A clip as a (T,H,W,3) uint8 array, downscaled (area) so its longer side is at most ``max_side``."""
    files = find_frame_files(path) if path.is_dir() else None
    if files is not None:
        images = [read_image(f) for f in files[:max_frames]]
    else:
        from vrestore.io.reader import open_reader  # lazy: PyAV only when a recipe names videos

        images = []
        for frame in open_reader(path):
            images.append(frame.image)
            if max_frames is not None and len(images) >= max_frames:
                break
    images = [to_depth(_shrink(image, max_side), np.uint8) for image in images]
    if not images or any(image.shape != images[0].shape for image in images):
        raise UsageError(f"clip '{path}' is empty or its frames differ in size; fix or remove it")
    return np.stack(images)


def _shrink(image: np.ndarray, max_side: int | None) -> np.ndarray:
    h, w = image.shape[:2]
    if max_side is None or max(h, w) <= max_side:
        return image
    scale = max_side / max(h, w)
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def degrade_clip(images: np.ndarray, rng: np.random.Generator, *, interval: int, prob: float,
                 weather: str | None = None, offset: int = 0, ops: Sequence[str] = (),
                 bitrate_frame_size: tuple[int, int] | None = None) -> np.ndarray:
    """Degrade (T,H,W,3) uint8 frames with a TUD schedule seeded from ``rng``.

    ``offset`` skips that many frames of the schedule first, so segment boundaries fall anywhere in the sample;
    ``ops`` limits the operators drawn (empty: all TUD operators). ``bitrate_frame_size`` (width, height): see
    :func:`at_bitrate_density`.
    """
    t, h, w = images.shape[:3]
    schedule = Schedule(seed=int(rng.integers(2**31)), size=(h, w), mode="tud", interval=interval, prob=prob,
                        weather=OpSpec(weather, {"strength": float(rng.uniform(0.2, 0.8))}) if weather else None,
                        pool=ops or None)
    plans: Iterator[FramePlan] = schedule.plans()
    if bitrate_frame_size is not None:
        share = (h * w) / (bitrate_frame_size[0] * bitrate_frame_size[1])
        plans = (at_bitrate_density(plan, share) for plan in plans)
    for _ in range(offset):
        next(plans)
    frames = [Frame(image=image, pts=i, time_base=None, index=i) for i, image in enumerate(images)]
    return np.stack([f.image for f in degrade_stream(frames, plans, [])])


def at_bitrate_density(plan: FramePlan, share: float) -> FramePlan:
    """``plan`` with its video bit rates multiplied by ``share`` (the crop's share of a full frame's pixels).

    The TUD protocol draws the intra-frame video bit rate in bits per frame (10-100 kbit), so the same draw
    leaves a small training crop far more bits per pixel than the full test frame it stands for: at 272x272
    out of 854x480, 5.5x more. Scaling the rate by the pixel share trains on the artefacts the test frames get.
    """
    steps = tuple(replace(step, params={**step.params, "bit_rate": max(1_000, round(step.params["bit_rate"] * share))})
                  if step.op == "video" else step for step in plan.steps)
    return replace(plan, steps=steps)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """(T,H,W,3) uint8 -> (T,3,H,W) float32 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float().div_(255.0)


class TrainSamples(Dataset):
    """Sample ``i`` = (degraded, clean) clips of shape (frames,3,crop,crop), a pure function of (seed, i).

    ``input_filter`` turns each degraded clip into the model's input (e.g. a motion average); None: as degraded.
    """

    def __init__(self, clips: Sequence[np.ndarray], config: DataConfig, seed: int, length: int,
                 input_filter: InputFilter | None = None) -> None:
        self.input_filter = input_filter
        usable = [c for c in clips if min(c.shape[1:3]) >= config.crop]
        if not usable:
            raise UsageError(f"no training clip is at least {config.crop} px on its shorter side; lower data.crop")
        self.clips, self.config, self.seed, self.length = list(usable), config, seed, length
        sizes = np.array([len(c) for c in self.clips], dtype=np.float64)
        self.weights = sizes / sizes.sum()

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        cfg = self.config
        rng = np.random.default_rng([self.seed, index])
        clip = self.clips[int(rng.choice(len(self.clips), p=self.weights))]
        frames = pick_sample_frames(len(clip), cfg.frames, cfg.still, rng)
        h, w = clip.shape[1:3]
        y, x = int(rng.integers(h - cfg.crop + 1)), int(rng.integers(w - cfg.crop + 1))
        (images,) = augment([clip[frames, y : y + cfg.crop, x : x + cfg.crop]], rng)
        degraded = model_input(degrade_clip(images, rng, **draw_degradation(cfg, rng)), self.input_filter)
        return to_tensor(degraded), to_tensor(images)


def model_input(degraded: np.ndarray, input_filter: InputFilter | None) -> np.ndarray:
    """What the model sees of a degraded clip: ``degraded`` through ``input_filter``, or as it is when None."""
    return degraded if input_filter is None else input_filter(degraded)


def augment(clips: Sequence[np.ndarray], rng: np.random.Generator) -> list[np.ndarray]:
    """The same random flips and transposition applied to each (T,H,W,C) clip of ``clips`` (contiguous copies)."""
    flips = [rng.random() < 0.5 for _ in range(3)]
    out = []
    for clip in clips:
        if flips[0]:
            clip = clip[:, :, ::-1]
        if flips[1]:
            clip = clip[:, ::-1]
        if flips[2]:
            clip = clip.transpose(0, 2, 1, 3)
        out.append(np.ascontiguousarray(clip))
    return out


def draw_degradation(config: DataConfig, rng: np.random.Generator) -> dict[str, Any]:
    """The keyword arguments of :func:`degrade_clip` for one training sample: interval, weather, offset..."""
    interval = int(rng.choice(config.intervals))
    weather = str(rng.choice(WEATHER)) if rng.random() < config.weather else None
    return {"interval": interval, "prob": config.prob, "weather": weather, "offset": int(rng.integers(interval)),
            "ops": config.ops, "bitrate_frame_size": config.bitrate_frame_size}


def pick_frames(count: int, wanted: int, rng: np.random.Generator) -> np.ndarray:
    """``wanted`` consecutive frame indices, time-reversed half of the time; short clips bounce at their ends."""
    if count >= wanted:
        start = int(rng.integers(count - wanted + 1))
        index = np.arange(start, start + wanted)
    else:
        cycle = np.concatenate([np.arange(count), np.arange(count - 2, 0, -1)]) if count > 1 else np.zeros(1, int)
        index = cycle[np.arange(wanted) % len(cycle)]
    return index[::-1].copy() if rng.random() < 0.5 else index


def pick_sample_frames(count: int, wanted: int, still: float, rng: np.random.Generator) -> np.ndarray:
    """:func:`pick_frames`, or with probability ``still`` its first frame ``wanted`` times (a still scene).

    With ``still == 0`` no extra number is drawn, so the samples of recipes without it stay as they were.
    """
    frames = pick_frames(count, wanted, rng)
    if still > 0 and rng.random() < still:
        frames = np.full_like(frames, frames[0])
    return frames


def validation_pairs(
    clips: Sequence[np.ndarray], config: DataConfig, seed: int, input_filter: InputFilter | None = None
) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Fixed (degraded, clean) validation clips: ``val_draws`` windows of ``val_frames`` frames per clip (one after
    the other, wrapping round a short clip), centre-cropped, each degraded by its own TUD draw (all operators,
    interval 12, ``config.val_prob``).

    One draw at interval 12 is a single combination of operators, so a lone draw says how the model does on
    that combination only; several draws average over the protocol. Draw 0 is the one of earlier versions.
    ``input_filter``: as in :class:`TrainSamples`, applied to each degraded window.
    """
    pairs = []
    for k, clip in enumerate(clips):
        for draw in range(config.val_draws):
            start = (draw * config.val_frames) % max(1, len(clip) - config.val_frames + 1)
            images = clip[start : start + config.val_frames]
            if config.val_crop is not None:
                h, w = images.shape[1:3]
                size = min(config.val_crop, h, w)
                y, x = (h - size) // 2, (w - size) // 2
                images = np.ascontiguousarray(images[:, y : y + size, x : x + size])
            rng = np.random.default_rng([seed, 1_000_003, k] + ([draw] if draw else []))
            degraded = degrade_clip(images, rng, interval=12, prob=config.val_prob,
                                    bitrate_frame_size=config.bitrate_frame_size)
            pairs.append((to_tensor(model_input(degraded, input_filter)), to_tensor(images)))
    return pairs
