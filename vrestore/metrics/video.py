"""Scoring a restored video against its reference, frame by frame, in batches, decoding ahead.

Frames are paired by index (default) or by timestamp (``align="pts"``). Both sides are decoded on
background threads (bounded read-ahead) while the previous batch is scored. Means follow BasicSR's
video scripts: per-frame values -> mean per video; frames with PSNR inf (identical) are left out of the
PSNR mean and counted in ``identical_frames``.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from vrestore.engine.pipeline import prefetch
from vrestore.errors import InputError, UsageError
from vrestore.frame import Frame
from vrestore.metrics.conventions import WINDOW
from vrestore.metrics.score import FrameScorer, peak_for

log = logging.getLogger("vrestore")

ALIGN_MODES = ("index", "pts")
_PTS_TOLERANCE_S = Fraction(1, 1000)


@dataclass(frozen=True)
class EvalOptions:
    """How to score: BasicSR's ``test_y_channel`` and ``crop_border``, frame pairing, device, batch size.

    ``workers`` (CPU only) is the number of threads scoring frames in parallel; None = one per core.
    """

    y_channel: bool = False
    crop_border: int = 0
    align: str = "index"
    allow_length_mismatch: bool = False
    device: str = "cpu"  # "cpu" (numpy/OpenCV, no torch), "auto" or a torch device such as "cuda:0"
    batch: int = 8
    workers: int | None = None


@dataclass
class VideoScore:
    """Per-frame PSNR (dB, inf for identical frames) and SSIM of one restored/reference pair.

    ``frames`` holds the index of each scored frame in the reference (they differ from 0..n-1 only when
    ``align="pts"`` skips frames without a partner).
    """

    restored: str
    reference: str
    peak: int
    frames: list[int] = field(default_factory=list)
    psnr: list[float] = field(default_factory=list)
    ssim: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        """Number of scored frame pairs."""
        return len(self.psnr)

    @property
    def identical_frames(self) -> int:
        """Frames whose PSNR is inf; they are left out of the PSNR mean."""
        return sum(1 for v in self.psnr if math.isinf(v))

    @property
    def mean_psnr(self) -> float:
        """Mean PSNR over frames with a finite PSNR; inf when every frame is identical."""
        finite = [v for v in self.psnr if not math.isinf(v)]
        return statistics.fmean(finite) if finite else math.inf

    @property
    def mean_ssim(self) -> float:
        """Mean SSIM over all scored frames."""
        return statistics.fmean(self.ssim) if self.ssim else math.nan


def mean_over_videos(scores: list[VideoScore]) -> tuple[float, float]:
    """(PSNR, SSIM) averaged over videos, BasicSR style; videos with PSNR inf are left out of the PSNR mean."""
    finite = [s.mean_psnr for s in scores if not math.isinf(s.mean_psnr)]
    psnr = statistics.fmean(finite) if finite else math.inf
    return psnr, statistics.fmean(s.mean_ssim for s in scores) if scores else math.nan


def evaluate_pair(
    restored: str | Path,
    reference: str | Path,
    options: EvalOptions | None = None,
    progress: Callable[[int], None] | None = None,
) -> VideoScore:
    """Score ``restored`` against ``reference`` (video files, frame folders or globs).

    Raises InputError when the sizes or bit depths differ, and when the frame counts (or, with
    ``align="pts"``, the timestamps) differ unless ``allow_length_mismatch``. ``progress(n)`` is called
    with the number of frames scored so far after each batch.
    """
    from vrestore.io.reader import open_reader

    options = options or EvalOptions()
    validate(options)
    with ExitStack() as stack:
        reader_r = stack.enter_context(open_reader(restored))
        reader_g = stack.enter_context(open_reader(reference))
        info_r, info_g = reader_r.info, reader_g.info
        _check_alike(restored, reference, (info_r.width, info_r.height, info_r.bit_depth),
                     (info_g.width, info_g.height, info_g.bit_depth), options)
        peak = peak_for(_dtype(info_r.bit_depth), info_r.bit_depth)
        # Read-ahead threads end (closing) before their readers close: ExitStack unwinds in reverse.
        frames_r = stack.enter_context(closing(prefetch(reader_r, depth=options.batch)))
        frames_g = stack.enter_context(closing(prefetch(reader_g, depth=options.batch)))
        scorer = stack.enter_context(
            FrameScorer(peak, y_channel=options.y_channel, crop=options.crop_border,
                        device=scoring_device(options.device),
                        workers=options.workers)
        )
        pairs = _pair_by_pts(frames_r, frames_g) if options.align == "pts" else _pair_by_index(frames_r, frames_g)
        counts = _Counts()
        score = VideoScore(str(restored), str(reference), peak)
        for batch in _batches(pairs, options.batch, counts):
            _check_frames(batch, restored, reference)
            values_psnr, values_ssim = scorer([x.image for x, _ in batch], [y.image for _, y in batch])
            score.frames.extend(y.index for _, y in batch)
            score.psnr.extend(values_psnr)
            score.ssim.extend(values_ssim)
            if progress is not None:
                progress(score.count)
    _check_counts(counts, restored, reference, options)
    if score.count == 0:
        raise InputError(f"no frames of {restored} pair up with {reference} by timestamp; try --align index")
    return score


def validate(options: EvalOptions) -> None:
    """Raise UsageError for option values that cannot work (DeviceError for a device that is not there)."""
    if options.align not in ALIGN_MODES:
        raise UsageError(f"--align {options.align} is not a pairing mode; use index or pts")
    if options.crop_border < 0:
        raise UsageError(f"--crop-border {options.crop_border} is negative; use 0 or more pixels")
    if options.batch < 1:
        raise UsageError(f"--batch {options.batch} is too small; use 1 or more frames")
    scoring_device(options.device)


def scoring_device(name: str) -> str:
    """Where frames are scored: "cpu" as is (torch is not even imported), else ``models.resolve_device``'s choice."""
    if name.strip().lower() == "cpu":
        return "cpu"
    from vrestore.models import resolve_device

    return str(resolve_device(name))


def _dtype(bit_depth: int) -> type:
    return np.uint8 if bit_depth <= 8 else np.uint16


def _check_alike(
    restored: str | Path, reference: str | Path, a: tuple[int, int, int], b: tuple[int, int, int], options: EvalOptions
) -> None:
    if a[:2] != b[:2]:
        raise InputError(
            f"restored {restored} is {a[0]}x{a[1]} but reference {reference} is {b[0]}x{b[1]}; "
            "compare videos of the same size"
        )
    if _dtype(a[2]) != _dtype(b[2]) or (a[2] > 8 and a[2] != b[2]):
        raise InputError(
            f"restored {restored} has {a[2]}-bit samples but reference {reference} has {b[2]}-bit; "
            "compare videos of the same bit depth"
        )
    left = min(a[0], a[1]) - 2 * options.crop_border
    if left < WINDOW:
        fix = "use a smaller --crop-border" if options.crop_border else "SSIM needs larger frames"
        raise (UsageError if options.crop_border else InputError)(
            f"frames of {a[0]}x{a[1]} with --crop-border {options.crop_border} leave {max(left, 0)} pixels, "
            f"fewer than SSIM's {WINDOW}x{WINDOW} window; {fix}"
        )


def _check_frames(batch: list[tuple[Frame, Frame]], restored: str | Path, reference: str | Path) -> None:
    for x, y in batch:
        if x.image.shape != y.image.shape or x.image.dtype != y.image.dtype:
            h1, w1 = x.image.shape[:2]
            h2, w2 = y.image.shape[:2]
            raise InputError(
                f"frame {x.index} of {restored} is {w1}x{h1} ({x.image.dtype}) but frame {y.index} of {reference} "
                f"is {w2}x{h2} ({y.image.dtype}); compare videos of the same size and depth"
            )


@dataclass
class _Counts:
    restored: int = 0
    reference: int = 0
    unmatched: int = 0


def _pair_by_index(a: Iterator[Frame], b: Iterator[Frame]) -> Iterator[tuple[Frame | None, Frame | None]]:
    while True:
        x, y = next(a, None), next(b, None)
        if x is None and y is None:
            return
        yield x, y


def _time(frame: Frame, source: str | Path) -> Fraction:
    if frame.pts is None or frame.time_base is None:
        raise InputError(f"frame {frame.index} of {source} has no timestamp; use --align index")
    return frame.pts * Fraction(frame.time_base)


def _pair_by_pts(a: Iterator[Frame], b: Iterator[Frame]) -> Iterator[tuple[Frame | None, Frame | None]]:
    """Merge-join two timestamp-ordered streams; frames within 1 ms pair up, the others are unmatched."""
    x, y = next(a, None), next(b, None)
    while x is not None or y is not None:
        tx = _time(x, "the restored video") if x is not None else None
        ty = _time(y, "the reference") if y is not None else None
        if tx is not None and ty is not None and abs(tx - ty) <= _PTS_TOLERANCE_S:
            yield x, y
            x, y = next(a, None), next(b, None)
        elif ty is None or (tx is not None and tx < ty):
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
