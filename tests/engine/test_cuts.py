"""Scene cuts: detection on synthetic frames, windows planned and streamed per shot."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tests.helpers import Counted, random_window
from vrestore.engine.chunking import stream_shots
from vrestore.engine.cuts import HISTORY, detect_cuts, mark_cuts
from vrestore.engine.plan import plan_shots, plan_windows, window_step
from vrestore.frame import Frame


def check_shots(n: int, cuts: list[int], length: int, overlap: int, k: int | None, shift_last: bool) -> None:
    windows = plan_shots(n, cuts, length, overlap, k, shift_last=shift_last)
    bounds = sorted({0, n} | {c for c in cuts if 0 < c < n})
    kept = [i for w in windows for i in range(w.keep_start, w.keep_stop)]
    assert kept == list(range(n)), "kept ranges partition the frames"
    for w in windows:
        shot = max(b for b in bounds if b <= w.start)
        assert not any(w.start < b < w.stop for b in bounds), f"window {w} spans a cut"
        if w.start == shot:
            assert w.overlap_before == 0 and w.keep_start == w.start, "a shot starts like a video"
        if w.stop in bounds:
            assert w.overlap_after == 0 and w.keep_stop == w.stop, "a shot ends like a video"
        if k:
            assert (w.start - shot) % k == 0, "key frames restart at each cut"
    shots = zip(bounds, bounds[1:], strict=False)
    shot_windows = [plan_windows(b - a, length, overlap, k, shift_last=shift_last) for a, b in shots]
    assert len(windows) == sum(map(len, shot_windows))

    source = Counted(range(n))

    step = window_step(length, overlap, k)
    streamed, fresh = [], []
    for window, items, first in stream_shots(source, lambda i: i in cuts, length, overlap, k, shift_last=shift_last):
        assert items == list(range(window.start, window.stop))
        assert source.pulled - window.start <= (length + step if shift_last else length + 1) + 1, "bounded look-ahead"
        streamed.append(window)
        fresh.append(first)
    assert streamed == windows
    assert [w.start for w, f in zip(windows, fresh, strict=True) if f] == bounds[:-1] if n else fresh == []


@pytest.mark.parametrize("cuts", [[], [1], [5], [8, 9], [7, 20], [29]])
@pytest.mark.parametrize("length, overlap, k", [(1, 0, None), (8, 0, None), (8, 2, None), (8, 4, 2), (5, 4, None)])
@pytest.mark.parametrize("shift_last", [True, False])
def test_shots_plan_and_stream(cuts: list[int], length: int, overlap: int, k: int | None, shift_last: bool) -> None:
    check_shots(30, cuts, length, overlap, k, shift_last)


def test_shots_random_sweep() -> None:
    rng = random.Random(22)
    for _ in range(300):
        length, overlap, k = random_window(rng)
        n = rng.randint(0, 120)
        cuts = sorted(rng.sample(range(n + 2), min(n + 2, rng.randint(0, 6))))
        check_shots(n, cuts, length, overlap, k, rng.random() < 0.6)


def test_no_cuts_is_plan_windows() -> None:
    assert plan_shots(100, [], 16, 4, 2) == plan_windows(100, 16, 4, 2)
    assert plan_shots(100, [0, 100, 150], 16, 4, 2) == plan_windows(100, 16, 4, 2)


# ------------------------------------------------------------------------------------------ detection


def scene(seed: int, n: int, size: tuple[int, int] = (96, 128), noise: float = 3.0) -> list[np.ndarray]:
    """A textured scene panning slowly, with sensor noise."""
    rng = np.random.default_rng(seed)
    h, w = size
    base = rng.uniform(0, 255, (h // 8 + 4, w // 8 + 12, 3))
    base = np.kron(base, np.ones((8, 8, 1)))
    frames = []
    for i in range(n):
        image = base[:h, i : i + w] + rng.normal(0, noise, (h, w, 3))
        frames.append(np.clip(image, 0, 255).astype(np.uint8))
    return frames


def test_detects_a_hard_cut() -> None:
    assert detect_cuts(scene(1, 20) + scene(2, 15)) == [20]
    assert detect_cuts(scene(1, 20) + scene(2, 1)) == [20], "a cut on the last frame"
    assert detect_cuts(scene(1, 1) + scene(2, 5)) == [1]
    assert detect_cuts(scene(1, 40)) == []


def test_same_cuts_for_16_bit() -> None:
    frames = scene(1, 10) + scene(2, 10) + scene(3, 10)
    assert detect_cuts([f.astype(np.uint16) * 257 for f in frames]) == detect_cuts(frames) == [10, 20]


def test_flash_and_fade_are_not_cuts() -> None:
    frames = scene(1, 30)
    frames[12] = np.full_like(frames[12], 250)  # one white frame
    assert detect_cuts(frames) == []
    a, b = scene(1, 30), scene(2, 30)
    fade = [(a[i] * (1 - i / 29) + b[i] * (i / 29)).astype(np.uint8) for i in range(30)]
    assert detect_cuts(a[:10] + fade + b[:10]) == []


def test_busy_shot_raises_the_bar() -> None:
    frames = scene(1, 60, noise=40.0)  # heavy noise: large frame differences all along
    assert detect_cuts(frames) == []


def test_decisions_depend_on_a_bounded_history() -> None:
    """What a resumed run relies on: the same frames give the same cuts, whatever came long before."""
    tail = scene(3, HISTORY + 12) + scene(4, 12) + scene(5, 6)
    alone = [c for c in detect_cuts(tail) if c > HISTORY + 1]
    assert alone == [HISTORY + 12, HISTORY + 24]
    for head in (scene(1, 40), scene(2, 5) + scene(6, 30, noise=30.0)):
        cuts = [c - len(head) for c in detect_cuts(head + tail) if c - len(head) > HISTORY + 1]
        assert cuts == alone


def frames_of(images: list[np.ndarray]) -> list[Frame]:
    return [Frame(image, i, None, i) for i, image in enumerate(images)]


def test_mark_cuts_given_and_off() -> None:
    frames = frames_of(scene(1, 10) + scene(2, 10))
    assert [f.index for f in mark_cuts(frames) if f.shot_start] == [10]
    assert [f.index for f in mark_cuts(frames, detect=False) if f.shot_start] == []
    assert [f.index for f in mark_cuts(frames, given=[0, 3, 7, 99]) if f.shot_start] == [3, 7]
    marked = list(mark_cuts(frames))
    assert [f.image is g.image and f.pts == g.pts for f, g in zip(marked, frames, strict=True)] == [True] * 20


def test_mark_cuts_looks_one_frame_ahead() -> None:
    source = Counted(frames_of(scene(1, 10) + scene(2, 10)))
    for frame in mark_cuts(source):
        assert source.pulled <= frame.index + 2
