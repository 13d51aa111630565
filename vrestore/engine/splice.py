"""Continue an interrupted restore: where to restart the windows, and splicing kept frames with new ones.

Windows are laid out by frame index from the first frame fed (``plan.plan_windows``): full windows start
at multiples of ``step``, and the last one depends only on the total frame count. Feeding the stream from
``start = k * step`` therefore gives exactly the windows ``k, k+1, ...`` of the uninterrupted run, with the
same input frames, provided window ``k`` is a full window of that run (``start + length <= frames``).
The restarted window ``k`` has no previous neighbour, so it would also claim the first half of the
overlap it shares with window ``k - 1``; its outputs before ``first = start + (length - step) // 2`` (the
original keep boundary) are dropped and taken from the kept partial output instead. Windows are hard-cut
at their keep boundaries (``blend.WINDOW_FEATHER == 0``), so every frame from ``first`` on is computed as
in an uninterrupted run. Models that carry a recurrent state across windows cannot be continued exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

import numpy as np

from vrestore.convert import to_depth
from vrestore.engine.chunking import ClipSettings
from vrestore.engine.plan import window_step
from vrestore.errors import InputError, UsageError
from vrestore.frame import Frame


def resume_point(frames_done: int, settings: ClipSettings, cuts: Iterable[int] = ()) -> tuple[int, int]:
    """``(start, first)``: feed the model from frame ``start``; keep its outputs from frame ``first`` on.

    Frames before ``first`` (at most ``frames_done``) come from the partial output. ``(0, 0)`` when too
    little was done to skip a window. With scene ``cuts`` (``plan.plan_shots``) the windows restart at each
    cut, so the rule applies inside the last shot that starts at or before ``frames_done``; a cut itself is
    an exact restart point (no window reaches back across it).
    """
    if settings.stateful:
        raise UsageError("this model carries its state from window to window; it cannot be resumed exactly")
    step = window_step(settings.length, settings.overlap, settings.keyframe_interval)
    shot = max([cut for cut in cuts if 0 < cut <= frames_done], default=0)
    done = frames_done - shot
    # Window k must be a full window of the final plan: it is when its frames were all written already.
    k = (done - settings.length) // step if done >= settings.length else 0
    if k == 0:
        return shot, shot
    start = shot + k * step
    return start, start + (settings.length - step) // 2


def splice(
    frames: Iterable[Frame],
    kept: Iterable[np.ndarray],
    start: int,
    first: int,
    restore: Callable[[Iterable[Frame]], Iterator[Frame]],
) -> Iterator[Frame]:
    """The output stream of a resumed run: ``kept`` images for frames ``[0, first)``, then ``restore``'s.

    ``frames`` is the whole source from frame 0; the kept images get its timing. Source frames before
    ``start`` are only decoded; frames from ``start`` on are fed to ``restore``, whose outputs before
    ``first`` are dropped. InputError when ``kept`` holds fewer than ``first`` images.
    """
    if not 0 <= start <= first:
        raise ValueError(f"bad resume point: start {start}, first {first}")
    source = iter(frames)
    images = iter(kept)
    replay: list[Frame] = []
    position = 0
    while position < first:
        frame = next(source, None)
        if frame is None:
            return  # the source is shorter than before; nothing more to restore
        image = next(images, None)
        if image is None:
            raise InputError(f"the partial output holds fewer than {first} frames; run without --resume to start over")
        if position >= start:
            replay.append(frame)
        yield frame.with_image(to_depth(image, frame.image.dtype))
        position += 1

    def fed() -> Iterator[Frame]:
        yield from replay
        replay.clear()
        yield from source

    for position, frame in enumerate(restore(fed()), start):
        if position >= first:
            yield frame

