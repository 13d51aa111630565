"""``vrestore analyze``: noise level, blockiness and blur of a video, second by second, to help pick a model.

Only a few frames of each second are measured (``samples_per_second``, evenly by timestamp); every frame is
still decoded. The measures are ``metrics.noise`` (noise level, 0-255, the value ``--sigma auto`` would
estimate), ``metrics.blockiness`` and ``metrics.blur``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vrestore.errors import UsageError
from vrestore.frame import Frame
from vrestore.metrics.blockiness import blockiness
from vrestore.metrics.blur import blur
from vrestore.metrics.noise import estimate_noise

DEFAULT_RATE = 25.0  # the time of frames without timestamps (image folders: the reader's default too)


@dataclass(frozen=True)
class SecondStats:
    """The measures of one second of video (``start_s`` <= t < ``start_s`` + 1)."""

    second: int
    frames: int
    sampled: int
    noise: float
    blockiness: float
    blur: float

    def to_dict(self) -> dict[str, float | int]:
        return {"second": self.second, "frames": self.frames, "sampled": self.sampled,
                "noise": round(self.noise, 2), "blockiness": round(self.blockiness, 3), "blur": round(self.blur, 3)}


@dataclass(frozen=True)
class Analysis:
    """Per-second measures of one video and their medians over the whole video."""

    input: str
    width: int
    height: int
    frames: int
    seconds: list[SecondStats] = field(default_factory=list)

    def overall(self) -> dict[str, float]:
        """Medians over the seconds."""
        return {name: float(np.median([getattr(s, name) for s in self.seconds]))
                for name in ("noise", "blockiness", "blur")}

    def to_dict(self) -> dict:
        overall = self.overall()
        return {"input": self.input, "width": self.width, "height": self.height, "frames": self.frames,
                "noise": round(overall["noise"], 2), "blockiness": round(overall["blockiness"], 3),
                "blur": round(overall["blur"], 3), "per_second": [s.to_dict() for s in self.seconds]}


def analyze_video(
    source: str | Path,
    *,
    samples_per_second: int = 2,
    progress: Callable[[int], None] | None = None,
) -> Analysis:
    """Measure ``source`` (anything ``vrestore restore`` reads); the reader's InputError when no frame decodes.

    ``progress(frames_decoded)`` is called after every frame.
    """
    from vrestore.io.reader import open_reader

    if samples_per_second < 1:
        raise UsageError(f"--samples must be at least 1 per second, got {samples_per_second}")
    with open_reader(source) as reader:
        info = reader.info
        rate = float(info.frame_rate) if info.frame_rate else DEFAULT_RATE
        seconds, count = _measure(reader, rate, samples_per_second, progress)
    return Analysis(str(source), info.width, info.height, count, seconds)


def _measure(
    frames: Iterable[Frame], rate: float, samples: int, progress: Callable[[int], None] | None
) -> tuple[list[SecondStats], int]:
    rows: list[SecondStats] = []
    current, in_second, picked = -1, 0, []
    next_sample = 0.0
    count = 0
    for frame in frames:
        t = _time_s(frame, rate)
        second = math.floor(t)
        if second != current:
            if in_second:
                rows.append(_row(current, in_second, picked))
            current, in_second, picked = second, 0, []
            next_sample = float(second)
        in_second += 1
        if t >= next_sample:
            image = frame.image
            peak = float(frame.max_value)
            picked.append((estimate_noise(image, peak=peak), blockiness(image), blur(image)))
            next_sample = second + len(picked) / samples
        count += 1
        if progress is not None:
            progress(count)
    if in_second:
        rows.append(_row(current, in_second, picked))
    return rows, count


def _time_s(frame: Frame, rate: float) -> float:
    if frame.pts is not None and frame.time_base is not None:
        return float(frame.pts * frame.time_base)
    return frame.index / rate


def _row(second: int, frames: int, picked: list[tuple[float, float, float]]) -> SecondStats:
    noise, blocks, blurred = (np.asarray(values) for values in zip(*picked, strict=True))
    return SecondStats(second, frames, len(picked), float(np.median(noise)), float(blocks.mean()),
                       float(blurred.mean()))
