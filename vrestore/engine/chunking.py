"""Temporal windows over a stream of frames whose length may be unknown in advance.

Default window length and overlap (``ClipOptions`` fields left None), with r = ``spec.temporal_radius``:

======================  =============================================  =========================================
model                   length                                         overlap
======================  =============================================  =========================================
``Temporal.NONE``       ``clip_length`` or 8 (batching only; the last  0 (an explicit overlap is ignored)
                        batch is short)
``Temporal.WINDOW``     ``clip_length`` or ``max(16, 8 r)``            ``min(2 r, length // 2)``
``Temporal.CLIP``       ``clip_length`` or 16                          ``min(2 r, length // 2)``
stateful ``CLIP``       ``clip_length`` or 16                          0: the recurrent state is carried from
                                                                       window to window instead (an explicit
                                                                       overlap is ignored; run_plan warns); the
                                                                       last window is short, not shifted back
======================  =============================================  =========================================

Key frames (``spec.uses_keyframes`` with ``keyframe_interval`` k): window starts are multiples of k, so a
model that treats every k-th frame of its input as a key frame sees the video's frames 0, k, 2k, ... as
key frames whatever the windowing. A default length is rounded up to a multiple of k and a default overlap
lowered so that ``length - overlap >= k``; explicit values that break this are a UsageError.

An overlap of at least ``2 r`` makes the chunked output equal the whole-sequence output for a model whose
temporal receptive field is ``r`` frames per side, because frames are hard-cut at the middle of each overlap
(``blend.WINDOW_FEATHER``).

:func:`stream_windows` yields exactly the windows of ``plan.plan_windows`` for the final frame count, while
holding at most ``length + step`` frames (``step = length - overlap``), at most ``length + 1`` when the last
window is not shifted back. :func:`stream_shots` does the same shot by shot (``plan.plan_shots``): a cut
ends the stream of one shot and starts the next, so memory stays as flat as for one shot.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from vrestore.engine.plan import Window, plan_shots, plan_windows, shifted, window_step
from vrestore.models.spec import ModelSpec, Temporal
from vrestore.options import ClipOptions

T = TypeVar("T")

NONE_BATCH = 8
CLIP_LENGTH = 16
WINDOW_MIN_LENGTH = 16


@dataclass(frozen=True)
class ClipSettings:
    """Resolved temporal windowing for one model."""

    length: int
    overlap: int
    keyframe_interval: int | None = None
    shift_last: bool = True
    stateful: bool = False

    def plan(self, n_frames: int, cuts: Iterable[int] = ()) -> list[Window]:
        """The windows for ``n_frames`` frames with shots starting at ``cuts`` (what :func:`stream_shots` yields)."""
        return plan_shots(n_frames, cuts, self.length, self.overlap, self.keyframe_interval,
                          shift_last=self.shift_last)


def carries_state(spec: ModelSpec) -> bool:
    """True for a model that carries a recurrent state from window to window (its windows do not overlap)."""
    return spec.temporal is Temporal.CLIP and spec.stateful


def resolve_clip(spec: ModelSpec, options: ClipOptions | None = None) -> ClipSettings:
    """Window length/overlap for ``spec``: the explicit ``options`` where given, else the defaults above.

    Pure: ``run_plan`` resolves a run's windows once and says when it ignores an explicit overlap.
    """
    options = options or ClipOptions()
    k = spec.keyframe_interval if spec.uses_keyframes and spec.keyframe_interval else None
    stateful = carries_state(spec)
    r = spec.temporal_radius
    if spec.temporal is Temporal.NONE:
        default_length = spec.clip_length or NONE_BATCH
    elif spec.temporal is Temporal.WINDOW:
        default_length = spec.clip_length or max(WINDOW_MIN_LENGTH, 8 * r)
    else:
        default_length = spec.clip_length or CLIP_LENGTH
    length = options.length
    if length is None:
        length = default_length if k is None else -(-default_length // k) * k
    overlap = options.overlap
    if spec.temporal is Temporal.NONE or stateful:
        overlap = 0
    elif overlap is None:
        overlap = min(2 * r, length // 2)
        if k is not None and length - overlap < k:
            overlap = max(0, length - k)
    window_step(length, overlap, k)  # validates before any frame is decoded
    # Shifting the last window back only helps models that look across frames without a state.
    shift_last = spec.temporal is not Temporal.NONE and not stateful and options.shift_last is not False
    return ClipSettings(length, overlap, k, shift_last=shift_last, stateful=stateful)


def stream_windows(
    items: Iterable[T],
    length: int,
    overlap: int,
    keyframe_interval: int | None = None,
    *,
    shift_last: bool = True,
) -> Iterator[tuple[Window, list[T]]]:
    """Yield ``(window, fed items)`` for a stream, lazily, equal to ``plan_windows(n, ...)`` for its length n.

    A full window is yielded once the frames seen prove that its kept range cannot change: with
    ``shift_last`` that is when the next window is known to be full too; otherwise once one frame past it
    is seen (or at once without overlap). The rest is planned when the stream ends.
    """
    step = window_step(length, overlap, keyframe_interval)
    shared = length - step
    if shift_last:
        lookahead = step + length
    else:
        lookahead = length + (1 if shared else 0)
    buffer: deque[T] = deque()
    base = 0  # frame index of buffer[0]
    start = 0  # start of the next full window
    keep_start = 0
    emitted = 0
    seen = 0
    for item in items:
        buffer.append(item)
        seen += 1
        while seen >= start + lookahead:
            keep_stop = start + step + shared // 2
            window = Window(start, start + length, keep_start, keep_stop, shared if emitted else 0, shared)
            yield window, list(itertools.islice(buffer, start - base, start - base + length))
            emitted += 1
            keep_start = keep_stop
            start += step
            while base < start:
                buffer.popleft()
                base += 1
    for window in plan_windows(seen, length, overlap, keyframe_interval, shift_last=shift_last)[emitted:]:
        yield window, list(itertools.islice(buffer, window.start - base, window.stop - base))
        while base < window.start:
            buffer.popleft()
            base += 1


def stream_shots(
    items: Iterable[T],
    starts_shot: Callable[[T], bool],
    length: int,
    overlap: int,
    keyframe_interval: int | None = None,
    *,
    shift_last: bool = True,
) -> Iterator[tuple[Window, list[T], bool]]:
    """Yield ``(window, fed items, first of its shot)`` lazily, equal to ``plan.plan_shots(n, cuts, ...)``.

    ``cuts`` are the positions of the items for which ``starts_shot`` is true (ignored for the first item).
    Each shot is streamed by :func:`stream_windows`, so the look-ahead and memory are those of one shot.
    """
    window_step(length, overlap, keyframe_interval)
    source = iter(items)
    end = object()
    first_item = next(source, end)
    if first_item is end:
        return
    head: T = first_item  # type: ignore[assignment]
    position = 0
    ended = False
    while not ended:
        first = position

        def shot() -> Iterator[T]:
            nonlocal head, position, ended
            yield head
            position += 1
            for item in source:
                if starts_shot(item):
                    head = item
                    return
                yield item
                position += 1
            ended = True

        fresh = True
        for window, fed in stream_windows(shot(), length, overlap, keyframe_interval, shift_last=shift_last):
            yield shifted(window, first), fed, fresh
            fresh = False
