"""Scoring a restored video against its reference, frame by frame, in batches, decoding ahead.

Frames are paired by index (default) or by timestamp (``align="pts"``). Both sides are decoded on
background threads while the metrics of the previous batch are computed with torch.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from vrestore.engine.pipeline import prefetch
from vrestore.errors import InputError, UsageError
from vrestore.frame import Frame
from vrestore.metrics.frames import crop_border, rgb_to_y, rgb_to_y_array
from vrestore.metrics.psnr import psnr, psnr_arrays
from vrestore.metrics.ssim import ssim, ssim_plane

log = logging.getLogger("vrestore")


@dataclass(frozen=True)
class EvalOptions:
    """How to score: BasicSR's ``test_y_channel`` and ``crop_border``, frame pairing, device, batch size."""

    y_channel: bool = False
    crop_border: int = 0
    align: str = "index"
    allow_length_mismatch: bool = False
    device: str = "cpu"
    batch: int = 8


@dataclass
class VideoScore:
    """Per-frame PSNR (dB, inf for identical frames) and SSIM of one restored/reference pair."""

    restored: str
    reference: str
    peak: int
    psnr: list[float] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)

    @property
    def frames(self) -> int:
        """Number of scored frame pairs."""
        return len(self.psnr)

    @property
    def identical_frames(self) -> int:
        """Frames whose PSNR is inf (left out of the PSNR mean, as BasicSR's averaging would be undefined)."""
        return sum(1 for v in self.psnr if math.isinf(v))

    @property
    def mean_psnr(self) -> float:
        """Mean PSNR over frames with a finite PSNR; inf when every frame is identical."""
        finite = [v for v in self.psnr if not math.isinf(v)]
        return statistics.fmean(finite) if finite else math.inf

    @property
    def mean_ssim(self) -> float:
        """Mean SSIM over all frames."""
        return statistics.fmean(self.ssim) if self.ssim else math.nan


def evaluate_pair(
    restored: str | Path,
    reference: str | Path,
    options: EvalOptions | None = None,
    progress: Callable[[int], None] | None = None,
) -> VideoScore:
    """Score ``restored`` against ``reference`` (videos, frame folders or globs)."""
    from vrestore.io.probe import probe
    from vrestore.io.reader import open_reader

    options = options or EvalOptions()
    _validate(options)
    info_r, info_g = probe(restored), probe(reference)
    if (info_r.width, info_r.height) != (info_g.width, info_g.height):
        raise InputError(
            f"restored {restored} is {info_r.width}x{info_r.height} but reference {reference} is "
            f"{info_g.width}x{info_g.height}; compare videos of the same size"
        )
    peak = _peak(info_r.bit_depth)
    if peak != _peak(info_g.bit_depth):
        raise InputError(
            f"restored {restored} has {info_r.bit_depth}-bit samples but reference {reference} has "
            f"{info_g.bit_depth}-bit; compare videos of the same bit depth"
        )
    device = torch.device(options.device)
    score = VideoScore(str(restored), str(reference), peak)
    with open_reader(restored) as reader_r, open_reader(reference) as reader_g:
        frames_r = prefetch(reader_r, depth=2 * options.batch)
        frames_g = prefetch(reader_g, depth=2 * options.batch)
        pairs = _pair_by_pts(frames_r, frames_g) if options.align == "pts" else _pair_by_index(frames_r, frames_g)
        counts = _Counts()
        for batch in _batches(pairs, options.batch, counts):
            if device.type == "cpu":
                _score_on_cpu(batch, score, options)
                if progress is not None:
                    progress(score.frames)
                continue
            a = _to_tensor([p[0] for p in batch], peak, info_r.bit_depth, device)
            b = _to_tensor([p[1] for p in batch], peak, info_g.bit_depth, device)
            if options.y_channel:
                a, b = rgb_to_y(a, peak), rgb_to_y(b, peak)
            a, b = crop_border(a, options.crop_border), crop_border(b, options.crop_border)
            score.psnr.extend(psnr(a, b, peak).tolist())
            score.ssim.extend(ssim(a, b, peak).tolist())
            if progress is not None:
                progress(score.frames)
    _check_counts(counts, restored, reference, options)
    return score


def _score_on_cpu(batch: list[tuple[Frame, Frame]], score: VideoScore, options: EvalOptions) -> None:
    """The CPU path: frame by frame in numpy/OpenCV (exact integer PSNR, per-plane SSIM), no layout copies."""
    for restored, reference in batch:
        a = _frame_array(restored, score.peak, options)
        b = _frame_array(reference, score.peak, options)
        score.psnr.append(psnr_arrays(a, b, score.peak))
        score.ssim.append(statistics.fmean(ssim_plane(a[..., c], b[..., c], score.peak) for c in range(a.shape[2])))


def _frame_array(frame: Frame, peak: int, options: EvalOptions) -> np.ndarray:
    """(H, W, C) samples on the 0..peak scale: integers for RGB, float64 BT.601 luma with --y-channel."""
    image = frame.image
    if image.dtype == np.uint16 and peak != 65535:
        image = np.round(image.astype(np.float64) * (peak / 65535.0)).astype(np.int32)
    if options.y_channel:
        image = rgb_to_y_array(image, peak)
    border = options.crop_border
    return image[border:-border, border:-border] if border > 0 else image


def _validate(options: EvalOptions) -> None:
    if options.align not in ("index", "pts"):
        raise UsageError(f"--align {options.align}: use index or pts")
    if options.crop_border < 0 or options.batch < 1:
        raise UsageError("--crop-border must be >= 0 and --batch >= 1")


def _peak(bit_depth: int) -> int:
    return (1 << min(bit_depth, 16)) - 1


def _to_tensor(frames: list[Frame], peak: int, bit_depth: int, device: torch.device) -> torch.Tensor:
    """RGB frames -> contiguous (N,3,H,W) float32 on the 0..peak scale (integer-valued, so exact).

    uint16 frames (full 0..65535 scale) are rescaled to the source's bit depth.
    """
    stacked = np.stack([f.image for f in frames])
    data = torch.from_numpy(stacked.astype(np.int32) if stacked.dtype == np.uint16 else stacked)
    x = data.to(device).permute(0, 3, 1, 2).float().contiguous()
    if stacked.dtype == np.uint16 and peak != 65535:
        x = torch.round(x.double() * (peak / 65535.0)).float()
    return x


@dataclass
class _Counts:
    restored: int = 0
    reference: int = 0
    unmatched: int = 0


def _pair_by_index(a: Iterator[Frame], b: Iterator[Frame]) -> Iterator[tuple[Frame | None, Frame | None]]:
    sentinel = None
    while True:
        x, y = next(a, sentinel), next(b, sentinel)
        if x is None and y is None:
            return
        yield x, y


def _time(frame: Frame) -> Fraction:
    if frame.pts is None or frame.time_base is None:
        raise InputError(f"frame {frame.index} has no timestamp; use --align index")
    return frame.pts * Fraction(frame.time_base)


def _pair_by_pts(a: Iterator[Frame], b: Iterator[Frame]) -> Iterator[tuple[Frame | None, Frame | None]]:
    """Merge-join two timestamp-ordered streams; frames within 1 ms pair up, the others are unmatched."""
    tolerance = Fraction(1, 1000)
    x, y = next(a, None), next(b, None)
    while x is not None or y is not None:
        if x is not None and y is not None and abs(_time(x) - _time(y)) <= tolerance:
            yield x, y
            x, y = next(a, None), next(b, None)
        elif y is None or (x is not None and _time(x) < _time(y)):
            yield x, None
            x = next(a, None)
        else:
            yield None, y
            y = next(b, None)


def _batches(
    pairs: Iterator[tuple[Frame | None, Frame | None]], size: int, counts: _Counts
) -> Iterator[list[tuple[Frame, Frame]]]:
    batch: list[tuple[Frame, Frame]] = []
    for x, y in pairs:
        counts.restored += x is not None
        counts.reference += y is not None
        if x is None or y is None:
            counts.unmatched += 1
            continue
        batch.append((x, y))
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _check_counts(counts: _Counts, restored: str | Path, reference: str | Path, options: EvalOptions) -> None:
    if counts.unmatched == 0:
        return
    what = "frame counts differ" if options.align == "index" else "timestamps differ"
    message = (
        f"{what}: restored {restored} has {counts.restored} frames, reference {reference} has "
        f"{counts.reference} ({counts.unmatched} without a partner)"
    )
    if not options.allow_length_mismatch:
        raise InputError(f"{message}; pass --allow-length-mismatch to score the frames that pair up")
    log.warning("%s; scored only the frames that pair up", message)
