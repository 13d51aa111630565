"""Hard scene cuts, detected while streaming (pure numpy on decoded images; no file I/O).

Each frame is reduced to a small luma/chroma thumbnail (box means over about ``THUMB`` pixels on its longer
side, which averages away noise, grain and compression blocks). The score of frame ``i`` is the mean absolute
difference of its thumbnail from frame ``i - 1``'s, in 8-bit levels; its *change* is the smallest of that
score and the differences of frames ``i - 2 -> i`` and ``i - 1 -> i + 1`` (a new shot differs from the
old one on both sides; a one-frame flash or glitch returns to the shot, so its change is small). Frame
``i`` starts a new shot when its change is at least ``MIN_SCORE`` and ``RATIO`` times the median of the
``HISTORY`` scores before it and the score of frame ``i + 1`` (sustained motion, pans and noise raise the
bar), and the colour histograms of the two thumbnails differ by at least ``MIN_COLOURS`` (half the L1 distance,
0..1): a camera jerk moves the content but keeps its colours. On the real clips of ``shared/data`` the
cuts scored 0.22 and 0.47 and nothing else above 0.08. Cuts between two shots of nearly the same colours
are missed, which costs what it cost before cuts were detected (the windows run across the cut).

So the decision on frame ``i`` needs frame ``i + 1``: the look-ahead is one frame. It depends only on the
frames ``[i - HISTORY - 1, i + 1]`` and on nothing else (no global statistics), so a stream cut at the
same frames always gives the same cuts: a resumed run, which decodes the source from frame 0 again, finds
the same ones. Gradual transitions (fades, dissolves) change a little per frame and are left alone.

Why not PySceneDetect: its ``AdaptiveDetector`` applies the same idea (a frame's score against its
neighbours'), but it needs OpenCV frames through its own video managers or a per-frame callback API that
changes between releases, adds a dependency for about forty lines, and its rolling window looks ahead
several frames; here the look-ahead is one frame and the rule is documented next to the windows it shapes.
"""

from __future__ import annotations

import statistics
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np

from vrestore.frame import Frame

THUMB = 64  # thumbnail size (pixels on the longer side, about)
MIN_SCORE = 12.0  # 8-bit levels: below this no change is a cut, however still the shot was
RATIO = 2.0  # a cut changes at least this many times more than its neighbourhood
MIN_COLOURS = 0.12  # histogram distance (0..1) below which no change is a cut
BINS = 16  # histogram bins per channel
HISTORY = 24  # scores kept for the running median
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def thumbnail(image: np.ndarray) -> np.ndarray:
    """(h, w, 3) float32 luma and two colour differences of ``image`` (uint8 or uint16 RGB), on a 0..255 scale.

    Box means over ``f x f`` blocks with ``f = longer side // THUMB`` (at least 1, at most the shorter
    side); edge rows and columns that do not fill a block are dropped.
    """
    height, width = image.shape[:2]
    f = max(1, min(max(height, width) // THUMB, height, width))
    h, w = height // f, width // f
    block = image[: h * f, : w * f].reshape(h, f, w, f, 3)
    rgb = block.mean(axis=(1, 3), dtype=np.float32)
    if image.dtype == np.uint16:
        rgb *= np.float32(255 / 65535)
    luma = rgb @ _LUMA
    return np.stack([luma, rgb[..., 0] - luma, rgb[..., 2] - luma], axis=-1)


def change_score(previous: np.ndarray, current: np.ndarray) -> float:
    """Mean absolute difference of two thumbnails (8-bit levels); 0 for identical frames."""
    return float(np.abs(current - previous).mean())


def colour_histogram(thumb: np.ndarray) -> np.ndarray:
    """Concatenated ``BINS``-bin histograms of a thumbnail's three channels, each summing to 1."""
    size = thumb.shape[0] * thumb.shape[1]
    ranges = ((0.0, 256.0), (-128.0, 128.0), (-128.0, 128.0))
    parts = [np.histogram(thumb[..., c], bins=BINS, range=ranges[c])[0] for c in range(3)]
    return np.concatenate(parts).astype(np.float32) / size


def colour_distance(previous: np.ndarray, current: np.ndarray) -> float:
    """Half the L1 distance of two :func:`colour_histogram` results, averaged over channels (0..1)."""
    return float(np.abs(current - previous).sum()) / 6


def is_cut(score: float, history: Iterable[float], next_score: float | None, colours: float = 1.0) -> bool:
    """The rule above for one frame: ``history`` are the scores before it, ``next_score`` the one after it
    (None at the end of the stream), ``colours`` its colour distance from the frame before."""
    if score < MIN_SCORE or colours < MIN_COLOURS:
        return False
    recent = list(history) + ([next_score] if next_score is not None else [])
    return score >= RATIO * (statistics.median(recent) if recent else 0.0)


class CutDetector:
    """Feeds frames one by one; returns the decision for the frame before (one frame of look-ahead)."""

    def __init__(self) -> None:
        self._thumb: np.ndarray | None = None
        self._before: np.ndarray | None = None  # the thumbnail before ``_thumb``
        self._colours: np.ndarray | None = None
        self._history: deque[float] = deque(maxlen=HISTORY)
        # Score, change so far and colour distance of the frame awaiting its decision.
        self._pending: tuple[float, float, float] | None = None

    def push(self, image: np.ndarray) -> bool | None:
        """Add the next frame; returns whether the previous frame starts a new shot (None for the first push).

        The first frame of a stream is never a cut.
        """
        thumb = thumbnail(image)
        colours = colour_histogram(thumb)
        before, previous, self._before, self._thumb = self._before, self._thumb, self._thumb, thumb
        previous_colours, self._colours = self._colours, colours
        if previous is None or previous_colours is None:
            return None
        score = change_score(previous, thumb)
        back = change_score(before, thumb) if before is not None else score
        decision = self._decide(score, back)
        self._pending = score, min(score, back), colour_distance(previous_colours, colours)
        return decision

    def finish(self) -> bool | None:
        """The decision for the last frame pushed (None if no frame was pushed)."""
        if self._thumb is None:
            return None
        return self._decide(None, None)

    def _decide(self, next_score: float | None, next_back: float | None) -> bool:
        """Decide on the pending frame given the next frame's score and its difference from the frame before."""
        if self._pending is None:
            return False
        score, change, colours = self._pending
        if next_back is not None:
            change = min(change, next_back)
        cut = is_cut(change, self._history, next_score, colours)
        self._history.append(score)
        return cut


def detect_cuts(images: Iterable[np.ndarray]) -> list[int]:
    """Indices of the frames that start a new shot (never 0), for a whole sequence."""
    return [frame.index for frame in mark_cuts(_frames(images), detect=True) if frame.shot_start]


def mark_cuts(frames: Iterable[Frame], *, detect: bool = True, given: Iterable[int] | None = None) -> Iterator[Frame]:
    """The frames, in order, with ``shot_start`` set on the first frame of each new shot (never frame 0).

    ``given`` frame indices (``Frame.index``) are the cuts when not None; otherwise they are detected when
    ``detect``, with one frame of look-ahead; else no frame is marked. Other frames pass through unchanged.
    """
    if given is not None:
        wanted = {index for index in given if index > 0}
        for frame in frames:
            yield replace(frame, shot_start=True) if frame.index in wanted else frame
        return
    if not detect:
        yield from frames
        return
    detector = CutDetector()
    held: Frame | None = None
    for frame in frames:
        decision = detector.push(frame.image)
        if held is not None:
            yield replace(held, shot_start=True) if decision else held
        held = frame
    if held is not None:
        yield replace(held, shot_start=True) if detector.finish() else held


def _frames(images: Iterable[np.ndarray]) -> Iterator[Frame]:
    for index, image in enumerate(images):
        yield Frame(image, None, None, index)
