"""Pure integer planning of spatial tiles and temporal windows (no torch here).

Both axes use one vocabulary, :class:`Span`: a range ``[start, stop)`` that is fed to the model (plus
``pad`` samples of padding after it), the range ``[keep_start, keep_stop)`` whose output it provides (the
kept ranges of all spans partition the axis exactly once), and the widths of the zones it shares with its
neighbours. The zone shared by two neighbours is centred on their common keep boundary ``b``:
``[b - overlap // 2, b - overlap // 2 + overlap)``. Both neighbours are fed the whole zone, so a sample kept
at the boundary has at least ``overlap // 2`` samples of real context on each side: hard-cutting at the
kept ranges is exact for a model whose receptive-field radius is at most ``overlap // 2``; ``blend.py``
may instead cross-fade inside the zone.

Tiles: ``tile`` is the size of the kept (core) part before overlap, as in Real-ESRGAN and chaiNNer; tiles
are balanced (``ceil(L / tile)`` cores of nearly equal size) and the fed size is grown with real image
content (or padded at the far edge) to a multiple of ``multiple_of`` and at least ``min_size``.

Windows: ``length`` frames are fed, consecutive windows share ``overlap`` frames (more when key frames
force the step down to a multiple of the key-frame interval, or for the last window). See
:func:`plan_windows` for the rules at the end of the stream. With scene cuts, :func:`plan_shots` plans each
shot as a stream of its own: a cut is planned exactly like the end of one video and the start of the next.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from vrestore.errors import UsageError


@dataclass(frozen=True)
class Span:
    """One piece of an axis: fed ``[start, stop)`` + ``pad`` padded samples; keeps ``[keep_start, keep_stop)``.

    ``overlap_before``/``overlap_after`` are the widths of the zones shared with the previous/next span
    (0 at the ends of the axis, or between neighbours that do not overlap); each zone is centred on
    ``keep_start``/``keep_stop``. A span may be fed more than its zones (grown to a multiple of the
    model's size); blending gives that extra context zero weight.
    """

    start: int
    stop: int
    keep_start: int
    keep_stop: int
    overlap_before: int = 0
    overlap_after: int = 0
    pad: int = 0

    @property
    def length(self) -> int:
        """Number of real samples fed (without padding)."""
        return self.stop - self.start

    @property
    def fed(self) -> int:
        """Number of samples the model sees (with padding)."""
        return self.stop - self.start + self.pad

    def zone_before(self) -> tuple[int, int]:
        """The range shared with the previous span (empty at the start of the axis)."""
        first = self.keep_start - self.overlap_before // 2
        return first, first + self.overlap_before

    def zone_after(self) -> tuple[int, int]:
        """The range shared with the next span (empty at the end of the axis)."""
        first = self.keep_stop - self.overlap_after // 2
        return first, first + self.overlap_after


# A temporal window is a span of frames; ``keep_start``/``keep_stop`` are the frames whose output it gives.
Window = Span


@dataclass(frozen=True)
class Tile:
    """One spatial tile: a span along the rows (``y``) and one along the columns (``x``)."""

    y: Span
    x: Span

    @property
    def region(self) -> tuple[int, int, int, int]:
        """Fed input region ``(y0, y1, x0, x1)`` in image coordinates (before padding)."""
        return self.y.start, self.y.stop, self.x.start, self.x.stop

    @property
    def keep(self) -> tuple[int, int, int, int]:
        """Owned region ``(y0, y1, x0, x1)``: every pixel is owned by exactly one tile."""
        return self.y.keep_start, self.y.keep_stop, self.x.keep_start, self.x.keep_stop

    @property
    def pad(self) -> tuple[int, int]:
        """Padding ``(bottom, right)`` appended to the region before it is fed."""
        return self.y.pad, self.x.pad

    @property
    def fed_size(self) -> tuple[int, int]:
        """``(height, width)`` the model sees."""
        return self.y.fed, self.x.fed


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def _check_positive(name: str, value: int) -> None:
    if value < 1:
        raise UsageError(f"{name} must be at least 1, got {value}")


def check_tile(size: int | None, overlap: int, min_size: int = 1) -> None:
    """UsageError unless tiles of core ``size`` (None/0: whole frames) can overlap by ``overlap`` pixels and
    a split on out-of-memory may stop at ``min_size``."""
    if overlap < 0:
        raise UsageError(f"tile overlap must be >= 0, got {overlap}")
    if size is not None and size < 0:
        raise UsageError(f"tile size must be >= 0 (0 = whole frame), got {size}")
    if min_size < 1:
        raise UsageError(f"minimum tile size must be at least 1, got {min_size}")
    if size and overlap >= size:
        raise UsageError(
            f"tile overlap {overlap} must be smaller than the tile size {size}; lower --tile-overlap or raise --tile"
        )


def plan_axis(length: int, tile: int | None, overlap: int, multiple_of: int = 1, min_size: int = 1) -> list[Span]:
    """Split one image axis of ``length`` pixels into balanced spans (see :func:`plan_tiles`)."""
    _check_positive("image size", length)
    _check_positive("multiple_of", multiple_of)
    _check_positive("min_size", min_size)
    check_tile(tile, overlap)
    whole = Span(0, length, 0, length, pad=_round_up(max(length, min_size), multiple_of) - length)
    if not tile or tile >= length:
        return [whole]
    count = -(-length // tile)
    bounds = [i * length // count for i in range(count + 1)]
    spans = []
    for i in range(count):
        keep_start, keep_stop = bounds[i], bounds[i + 1]
        before = overlap if i > 0 else 0
        after = overlap if i < count - 1 else 0
        start = keep_start - before // 2
        stop = keep_stop - after // 2 + after
        target = _round_up(max(stop - start, min_size), multiple_of)
        if target > length:
            # Every tile would be the whole axis anyway.
            return [whole]
        grow = target - (stop - start)
        extra_after = min(grow, length - stop)
        stop += extra_after
        start -= grow - extra_after
        spans.append(Span(start, stop, keep_start, keep_stop, before, after))
    return spans


def plan_tiles(
    height: int,
    width: int,
    tile: int | None,
    overlap: int,
    multiple_of: int = 1,
    *,
    min_size: int = 1,
) -> list[Tile]:
    """Cover a ``height`` x ``width`` image with overlapping tiles, row-major.

    ``tile`` is the core size (None/0 or >= the image side: one tile along that side); neighbouring
    tiles' inputs overlap by ``overlap`` pixels centred on their shared keep boundary. Fed sizes are
    multiples of ``multiple_of`` and at least ``min_size`` (grown with image content, padded when the
    image is too small).
    """
    rows = plan_axis(height, tile, overlap, multiple_of, min_size)
    cols = plan_axis(width, tile, overlap, multiple_of, min_size)
    return [Tile(y, x) for y in rows for x in cols]


def plan_windows(
    n_frames: int,
    length: int,
    overlap: int,
    keyframe_interval: int | None = None,
    *,
    shift_last: bool = True,
) -> list[Window]:
    """Cover ``n_frames`` frames with windows of ``length`` frames overlapping by ``overlap``.

    - ``n_frames <= length``: one window of all frames.
    - Windows start at multiples of ``step = length - overlap`` (rounded down to a multiple of
      ``keyframe_interval`` k when given, so that each window's local key frames fall on global multiples
      of k) and are full-length while they fit.
    - The remaining tail gets one last window ending at ``n_frames``: shifted back to full length
      (``shift_last``; with key frames, to the first multiple of k at or after ``n - length``, so it may
      be up to k - 1 frames short), or, without ``shift_last`` (stateful models), starting one step after
      the previous window and short.
    - Neighbours split their shared frames in the middle (``keep_stop`` of one = ``keep_start`` of the next).
    """
    if n_frames < 0:
        raise UsageError(f"frame count must be >= 0, got {n_frames}")
    step = window_step(length, overlap, keyframe_interval)
    if n_frames == 0:
        return []
    if n_frames <= length:
        return [Window(0, n_frames, 0, n_frames)]
    ranges = [(s, s + length) for s in range(0, n_frames - length + 1, step)]
    last_start, last_stop = ranges[-1]
    if last_stop < n_frames:
        if shift_last:
            first = n_frames - length
            if keyframe_interval:
                first = _round_up(first, keyframe_interval)
        else:
            first = last_start + step
        ranges.append((first, n_frames))
    return _with_keep_ranges(ranges)


def plan_shots(
    n_frames: int,
    cuts: Iterable[int],
    length: int,
    overlap: int,
    keyframe_interval: int | None = None,
    *,
    shift_last: bool = True,
) -> list[Window]:
    """:func:`plan_windows` for each shot, the shots separated by ``cuts`` (the frames that start a new shot).

    Exact: the windows of a shot ``[a, b)`` are ``plan_windows(b - a, ...)`` moved by ``a``, so no window
    spans a cut, the windows either side of one share nothing (``overlap_after``/``overlap_before`` 0) and
    key frames restart at each cut. Cuts outside ``(0, n_frames)`` are ignored.
    """
    window_step(length, overlap, keyframe_interval)  # validates even when there are no frames
    bounds = sorted({0, n_frames} | {cut for cut in cuts if 0 < cut < n_frames})
    windows = []
    for first, stop in zip(bounds, bounds[1:], strict=False):
        windows += [shifted(window, first) for window in
                    plan_windows(stop - first, length, overlap, keyframe_interval, shift_last=shift_last)]
    return windows


def shifted(window: Window, offset: int) -> Window:
    """``window`` moved ``offset`` frames later."""
    return replace(window, start=window.start + offset, stop=window.stop + offset,
                   keep_start=window.keep_start + offset, keep_stop=window.keep_stop + offset)


def window_step(length: int, overlap: int, keyframe_interval: int | None = None) -> int:
    """Distance between the starts of consecutive full windows; raises UsageError for bad arguments."""
    _check_positive("clip length", length)
    if overlap < 0:
        raise UsageError(f"clip overlap must be >= 0, got {overlap}")
    if overlap >= length:
        raise UsageError(f"clip overlap {overlap} must be smaller than the clip length {length}; lower --clip-overlap")
    step = length - overlap
    if keyframe_interval is not None:
        _check_positive("key-frame interval", keyframe_interval)
        step = step // keyframe_interval * keyframe_interval
        if step < 1:
            raise UsageError(
                f"clip length {length} minus overlap {overlap} must be at least the model's key-frame interval "
                f"{keyframe_interval}; use a longer --clip or a smaller --clip-overlap"
            )
    return step


def _with_keep_ranges(ranges: list[tuple[int, int]]) -> list[Window]:
    """Windows for consecutive ``(start, stop)`` ranges, splitting each shared range in the middle."""
    cuts = [ranges[0][0]]
    shared = [0]
    for (_, prev_stop), (start, _) in zip(ranges, ranges[1:], strict=False):
        width = prev_stop - start
        shared.append(width)
        cuts.append(start + width // 2)
    cuts.append(ranges[-1][1])
    shared.append(0)
    return [
        Window(start, stop, cuts[i], cuts[i + 1], shared[i], shared[i + 1]) for i, (start, stop) in enumerate(ranges)
    ]
