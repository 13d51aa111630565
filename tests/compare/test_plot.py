from __future__ import annotations

import math

import numpy as np
import pytest

from vrestore.compare.plot import PALETTE, nice_ticks, plot_curves


@pytest.mark.parametrize(("low", "high"), [(23.4, 31.9), (0, 1), (0.9912, 0.9987), (5, 5), (-3, 120)])
def test_nice_ticks_cover_the_range_with_round_steps(low, high):
    ticks = nice_ticks(low, high)
    assert ticks[0] <= low and ticks[-1] >= high
    steps = {round(b - a, 9) for a, b in zip(ticks, ticks[1:], strict=False)}
    assert len(steps) == 1
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    assert round(mantissa, 6) in (1, 2, 5, 10)


def test_curves_leave_gaps_at_infinite_values():
    image = plot_curves([("a", [0, 1, 2, 3, 4], [30, 31, math.inf, 29, 30])], title="t", y_label="dB")
    assert image.dtype == np.uint8 and image.shape == (480, 960, 3)
    colour = (image == np.array(PALETTE[0], np.uint8)).all(axis=-1)
    columns = np.flatnonzero(colour[:, 70:-230].any(axis=0)) + 70
    assert len(columns) > 100
    assert np.diff(columns).max() > 50  # the gap where frame 2 is identical
