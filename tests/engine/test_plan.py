"""Invariants of the pure tile and window planning (parametrized plus seeded random sweeps)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from tests.helpers import random_window
from vrestore.engine.plan import Span, plan_axis, plan_tiles, plan_windows
from vrestore.errors import UsageError


def check_axis(spans: list[Span], length: int, tile: int | None, overlap: int, multiple: int, min_size: int) -> None:
    assert spans[0].keep_start == 0 and spans[-1].keep_stop == length
    for a, b in zip(spans, spans[1:], strict=False):
        assert a.keep_stop == b.keep_start, "kept ranges must be contiguous"
        assert a.overlap_after == b.overlap_before == overlap
        assert a.zone_after() == b.zone_before()
    for span in spans:
        assert 0 <= span.start <= span.keep_start < span.keep_stop <= span.stop <= length
        assert span.fed % multiple == 0 and span.fed >= min_size
        assert span.pad == 0 or (span.start, span.stop) == (0, length), "only a whole-axis span is padded"
        for first, stop in (span.zone_before(), span.zone_after()):
            if stop > first:
                assert span.start <= first and stop <= span.stop, "both neighbours are fed their whole zone"
        # Kept samples have at least overlap // 2 real context on every interior side.
        if span.overlap_before:
            assert span.keep_start - span.start >= overlap // 2
        if span.overlap_after:
            assert span.stop - span.keep_stop >= overlap // 2
    if len(spans) > 1:
        cores = [s.keep_stop - s.keep_start for s in spans]
        assert max(cores) <= tile and max(cores) - min(cores) <= 1, "balanced cores no larger than the tile"


def check_tiles(h: int, w: int, tile: int | None, overlap: int, multiple: int, min_size: int = 1) -> None:
    tiles = plan_tiles(h, w, tile, overlap, multiple, min_size=min_size)
    owned = np.zeros((h, w), dtype=np.int32)
    covered = np.zeros((h, w), dtype=bool)
    for t in tiles:
        y0, y1, x0, x1 = t.keep
        owned[y0:y1, x0:x1] += 1
        ry0, ry1, rx0, rx1 = t.region
        covered[ry0:ry1, rx0:rx1] = True
        assert t.fed_size[0] % multiple == 0 and t.fed_size[1] % multiple == 0
    assert (owned == 1).all(), "every pixel owned exactly once"
    assert covered.all()
    check_axis(plan_axis(h, tile, overlap, multiple, min_size), h, tile, overlap, multiple, min_size)
    check_axis(plan_axis(w, tile, overlap, multiple, min_size), w, tile, overlap, multiple, min_size)


@pytest.mark.parametrize("h, w", [(1, 1), (7, 13), (64, 64), (65, 33), (100, 37), (31, 200)])
@pytest.mark.parametrize("tile, overlap", [(None, 0), (0, 16), (8, 0), (8, 4), (16, 7), (32, 16), (500, 10)])
@pytest.mark.parametrize("multiple", [1, 4, 8])
def test_tiles_cover_and_partition(h: int, w: int, tile: int | None, overlap: int, multiple: int) -> None:
    check_tiles(h, w, tile, overlap, multiple)


def test_tiles_random_sweep() -> None:
    rng = random.Random(1234)
    for _ in range(400):
        length = rng.randint(1, 300)
        tile = rng.choice([None, 0, rng.randint(2, 120)])
        overlap = rng.randint(0, tile - 1) if tile else rng.randint(0, 20)
        multiple = rng.choice([1, 2, 3, 8, 16])
        min_size = rng.choice([1, 1, 16, 64])
        check_tiles(length, rng.randint(1, 60), tile, overlap, multiple, min_size)


def test_tile_at_least_image_gives_one_tile() -> None:
    assert len(plan_tiles(40, 30, 40, 8)) == 1
    assert len(plan_tiles(40, 30, None, 8)) == 1
    assert len(plan_tiles(40, 30, 0, 8)) == 1
    one = plan_tiles(10, 6, None, 0, 8)
    assert one[0].pad == (6, 2) and one[0].fed_size == (16, 8)


def test_tiles_are_balanced_like_chainner() -> None:
    spans = plan_axis(100, 64, 8)
    assert [s.keep_stop - s.keep_start for s in spans] == [50, 50]
    assert [(s.start, s.stop) for s in spans] == [(0, 54), (46, 100)]


@pytest.mark.parametrize(
    "args",
    [dict(tile=16, overlap=16), dict(tile=8, overlap=20), dict(tile=-1, overlap=0), dict(tile=16, overlap=-1)],
)
def test_tile_arguments_are_validated(args: dict) -> None:
    with pytest.raises(UsageError, match="tile"):
        plan_tiles(64, 64, args["tile"], args["overlap"])


def check_windows(n: int, length: int, overlap: int, k: int | None, shift_last: bool = True) -> None:
    windows = plan_windows(n, length, overlap, k, shift_last=shift_last)
    if n == 0:
        assert windows == []
        return
    kept = np.zeros(n, dtype=np.int32)
    for w in windows:
        assert 0 <= w.start <= w.keep_start < w.keep_stop <= w.stop <= n
        kept[w.keep_start : w.keep_stop] += 1
    assert (kept == 1).all(), "kept ranges partition the frames exactly once"
    for a, b in zip(windows, windows[1:], strict=False):
        assert a.keep_stop == b.keep_start and a.start < b.start and a.stop < b.stop
        assert a.stop - b.start == a.overlap_after == b.overlap_before >= overlap
        assert b.keep_start - b.start >= overlap // 2 and a.stop - a.keep_stop >= overlap // 2
    if n <= length:
        assert [(w.start, w.stop) for w in windows] == [(0, n)]
        return
    for w in windows[:-1]:
        assert w.length == length
    last = windows[-1]
    assert last.stop == n
    if k:
        assert all(w.start % k == 0 for w in windows)
    if shift_last:
        assert last.length > length - (k or 1)
        if not k:
            assert last.length == length
    else:
        assert last.length <= length
        assert len({w.overlap_after for w in windows[:-1]}) == 1, "a short last window keeps the regular step"


@pytest.mark.parametrize("n", [0, 1, 2, 5, 8, 9, 15, 16, 17, 31, 100])
@pytest.mark.parametrize("length, overlap", [(1, 0), (4, 0), (8, 2), (8, 3), (16, 4), (16, 15)])
@pytest.mark.parametrize("k", [None, 2, 4])
@pytest.mark.parametrize("shift_last", [True, False])
def test_windows_partition(n: int, length: int, overlap: int, k: int | None, shift_last: bool) -> None:
    if k and length - overlap < k:
        with pytest.raises(UsageError, match="key-frame interval"):
            plan_windows(n, length, overlap, k, shift_last=shift_last)
        return
    check_windows(n, length, overlap, k, shift_last)


def test_windows_random_sweep() -> None:
    rng = random.Random(99)
    for _ in range(1000):
        length, overlap, k = random_window(rng, max_length=40, nones=2)
        check_windows(rng.randint(0, 300), length, overlap, k, rng.random() < 0.7)


def test_windows_examples() -> None:
    got = [(w.start, w.stop, w.keep_start, w.keep_stop) for w in plan_windows(20, 8, 2)]
    assert got == [(0, 8, 0, 7), (6, 14, 7, 13), (12, 20, 13, 20)]
    got = [(w.start, w.stop, w.keep_start, w.keep_stop) for w in plan_windows(17, 8, 2)]
    assert got == [(0, 8, 0, 7), (6, 14, 7, 11), (9, 17, 11, 17)]  # last window shifted back to full length
    got = [(w.start, w.stop) for w in plan_windows(17, 8, 2, 4)]
    assert got == [(0, 8), (4, 12), (8, 16), (12, 17)]  # step 6 rounded down to the interval
    got = [(w.start, w.stop, w.keep_start) for w in plan_windows(10, 4, 0, shift_last=False)]
    assert got == [(0, 4, 0), (4, 8, 4), (8, 10, 8)]


@pytest.mark.parametrize("length, overlap", [(0, 0), (4, 4), (4, 5), (4, -1)])
def test_window_arguments_are_validated(length: int, overlap: int) -> None:
    with pytest.raises(UsageError, match="clip"):
        plan_windows(10, length, overlap)
