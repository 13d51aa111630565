"""Blending weights: partition of unity, exact ones where one span covers, hard cut and cross-fade."""

from __future__ import annotations

import random

import pytest
import torch

from vrestore.engine.blend import TileAccumulator, WindowBlender, nonzero_range, span_weights
from vrestore.engine.plan import plan_axis, plan_tiles, plan_windows


def axis_sum(spans, length: int, feather: float, scale: int) -> tuple[torch.Tensor, torch.Tensor]:
    total = torch.zeros(scale * length, dtype=torch.float64)
    count = torch.zeros(scale * length, dtype=torch.int32)
    for span in spans:
        w = span_weights(span, feather, scale).double()
        total[scale * span.start : scale * span.stop] += w
        lo, hi = nonzero_range(span, feather, scale)
        assert (w[: lo - scale * span.start] == 0).all() and (w[hi - scale * span.start :] == 0).all()
        assert (w[lo - scale * span.start : hi - scale * span.start] > 0).all()
        count[lo:hi] += 1
    return total, count


@pytest.mark.parametrize("feather", [0.0, 0.25, 0.5, 1.0])
@pytest.mark.parametrize("scale", [1, 2, 3])
def test_tile_weights_sum_to_one(feather: float, scale: int) -> None:
    rng = random.Random(7)
    for _ in range(60):
        tile = rng.randint(4, 50)
        spans = plan_axis(rng.randint(1, 200), tile, rng.randint(0, tile - 1), rng.choice([1, 4]))
        length = spans[-1].keep_stop
        total, count = axis_sum(spans, length, feather, scale)
        torch.testing.assert_close(total, torch.ones_like(total), rtol=0, atol=1e-6)
        assert (total[count == 1] == 1).all(), "exactly 1 where a single tile contributes"


def test_hard_cut_is_the_keep_indicator() -> None:
    for span in plan_axis(100, 30, 10):
        w = span_weights(span, 0.0, 2)
        keep = torch.zeros(2 * span.length)
        keep[2 * (span.keep_start - span.start) : 2 * (span.keep_stop - span.start)] = 1
        assert torch.equal(w, keep)


def test_feather_stays_inside_the_margin() -> None:
    # overlap 12, feather 0.5: the ramp is 6 wide around the boundary, leaving 3 pixels of margin.
    first, second = plan_axis(60, 30, 12)
    w = span_weights(second, 0.5)
    offset = second.keep_start - second.start
    assert offset == 6 and (w[:3] == 0).all() and (w[3:9] > 0).all() and (w[3:9] < 1).all() and (w[9:] == 1).all()


def test_accumulator_identity_is_exact() -> None:
    image = torch.rand(1, 2, 3, 37, 53)
    acc = TileAccumulator(image.shape, 1, 0.5, "cpu")
    for tile in plan_tiles(37, 53, 16, 8):
        y0, y1, x0, x1 = tile.region
        acc.add(tile, image[..., y0:y1, x0:x1])
    torch.testing.assert_close(acc.result(), image, rtol=0, atol=1e-6)


@pytest.mark.parametrize("feather", [0.0, 0.5, 1.0])
def test_window_blender_releases_each_frame_once_in_order(feather: float) -> None:
    n = 41
    frames = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 3, 2, 2)
    blender: WindowBlender[int] = WindowBlender(feather)
    released = []
    for window in plan_windows(n, 10, 4):
        out = frames[window.start : window.stop]
        for index, image in blender.add(window, out, list(range(window.start, window.stop))):
            torch.testing.assert_close(image, frames[index], rtol=0, atol=1e-5)
            released.append(index)
    assert released == list(range(n)) and blender.pending == 0


def test_cross_fade_mixes_neighbouring_windows() -> None:
    windows = plan_windows(12, 8, 4)
    blender: WindowBlender[int] = WindowBlender(1.0)
    first = blender.add(windows[0], torch.zeros(8, 1, 1, 1), list(range(8)))
    assert [i for i, _ in first] == [0, 1, 2, 3] and blender.pending == 4
    second = blender.add(windows[1], torch.ones(8, 1, 1, 1), list(range(4, 12)))
    values = [float(img) for _, img in second]
    assert values[:4] == pytest.approx([0.125, 0.375, 0.625, 0.875]) and values[4:] == [1.0] * 4
