from __future__ import annotations

import numpy as np
import pytest

from vrestore.compare.layout import GAP, Crop, compose, parse_crop, plan_grid, prepare, split
from vrestore.errors import UsageError


def _image(w, h, value, dtype=np.uint8):
    rng = np.random.default_rng(value)
    return rng.integers(0, 200, (h, w, 3)).astype(dtype)


def test_auto_layouts():
    assert (plan_grid([(10, 8)] * 2).rows, plan_grid([(10, 8)] * 2).cols) == (1, 2)
    assert (plan_grid([(10, 8)] * 3).rows, plan_grid([(10, 8)] * 3).cols) == (1, 3)
    assert (plan_grid([(10, 8)] * 4).rows, plan_grid([(10, 8)] * 4).cols) == (2, 2)
    assert plan_grid([(10, 8)] * 3, "column").cols == 1


def test_panels_hold_the_exact_source_pixels_and_labels_sit_above():
    images = [_image(40, 30, k) for k in range(4)]
    grid = plan_grid([(40, 30)] * 4)
    canvas = compose(images, ["one", "two", "three", "four"], grid)
    assert canvas.shape == (2 * (30 + grid.band) + GAP, 2 * 40 + GAP, 3)
    for k, image in enumerate(images):
        x, y = grid.origin(k)
        assert np.array_equal(canvas[y : y + 30, x : x + 40], image)
        assert canvas[y - grid.band : y, x : x + 40].max() > 100  # white label text in the band


def test_smaller_panels_are_letterboxed_in_the_middle():
    big, small = _image(40, 30, 1), _image(20, 10, 2)
    grid = plan_grid([(40, 30), (20, 10)])
    canvas = compose([big, small], ["", ""], grid)
    x, y = grid.origin(1)
    assert np.array_equal(canvas[y + 10 : y + 20, x + 10 : x + 30], small)
    assert canvas[y : y + 10, x : x + 40].max() == 0 and canvas[y + 20 : y + 30, x : x + 40].max() == 0


def test_split_takes_left_from_a_and_right_from_b():
    a, b = _image(50, 20, 1), _image(50, 20, 2)
    canvas = split(a, b, ["a", "b"], 0.4)
    band = canvas.shape[0] - 20
    assert np.array_equal(canvas[band:, :19], a[:, :19])
    assert np.array_equal(canvas[band:, 21:], b[:, 21:])
    assert (canvas[band:, 19:21] == 255).all()
    with pytest.raises(UsageError, match="same size"):
        split(a, _image(40, 20, 3), ["a", "b"])


def test_crop_and_nearest_neighbour_zoom():
    image = _image(30, 20, 5)
    part = prepare(image, Crop(4, 6, 5, 3, zoom=2))
    assert part.shape == (6, 10, 3)
    assert np.array_equal(part[::2, ::2], image[6:9, 4:9]) and np.array_equal(part[1::2, 1::2], image[6:9, 4:9])
    assert prepare(image, Crop(25, 15, 100, 100)).shape == (5, 5, 3)  # clipped to the picture
    with pytest.raises(UsageError, match="outside"):
        prepare(image, Crop(30, 0, 2, 2))


def test_sixteen_bit_panels_stay_sixteen_bit():
    deep, flat = _image(8, 8, 1, np.uint16) * 300, _image(8, 8, 2)
    canvas = compose([deep, flat], ["", ""], plan_grid([(8, 8)] * 2))
    assert canvas.dtype == np.uint16
    x, y = plan_grid([(8, 8)] * 2).origin(1)
    assert np.array_equal(canvas[y : y + 8, x : x + 8], flat.astype(np.uint16) * 257)


@pytest.mark.parametrize("text", ["1,2,3", "a,b,c,d", "1,2,0,4"])
def test_bad_crops(text):
    with pytest.raises(UsageError):
        parse_crop(text)
