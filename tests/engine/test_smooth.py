"""--temporal-smooth: the motion-gated recursive blend of consecutive outputs."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from vrestore.engine.smooth import TemporalSmoother, motion_gate, smooth_frames
from vrestore.errors import UsageError
from vrestore.frame import Frame


def _frames(images: list[np.ndarray]) -> list[Frame]:
    return [Frame(image, pts=i, time_base=Fraction(1, 24), index=i) for i, image in enumerate(images)]


def test_flicker_on_a_static_scene_is_reduced():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.8, (32, 32, 3)).astype(np.float32)
    noisy = [base + rng.normal(0, 0.01, base.shape).astype(np.float32) for _ in range(20)]
    smoother = TemporalSmoother(0.6)
    out = [smoother(image) for image in noisy]
    flicker_in = np.mean([np.abs(b - a).mean() for a, b in zip(noisy[5:-1], noisy[6:], strict=True)])
    flicker_out = np.mean([np.abs(b - a).mean() for a, b in zip(out[5:-1], out[6:], strict=True)])
    assert flicker_out < 0.6 * flicker_in
    assert np.abs(out[-1] - base).mean() < np.abs(noisy[-1] - base).mean()


def test_moving_content_and_scene_cuts_pass_through():
    a = np.zeros((24, 24, 3), np.float32)
    b = a.copy()
    b[4:12, 4:12] = 1.0  # a bright square appears: motion there, static elsewhere
    gate = motion_gate(b, a)
    assert gate[8, 8] == 0.0 and gate[20, 20] == 1.0
    smoother = TemporalSmoother(0.8)
    smoother(a)
    assert np.array_equal(smoother(b)[8, 8], b[8, 8])
    cut = np.full_like(a, 0.7)
    assert np.array_equal(smoother(cut), cut)


def test_stream_keeps_dtype_timing_and_is_a_pass_through_at_zero():
    images = [np.full((8, 8, 3), v, np.uint16) for v in (1000, 1100, 1000)]
    frames = _frames(images)
    assert [f.image for f in smooth_frames(frames, 0.0)] == images
    out = list(smooth_frames(frames, 0.5))
    assert [f.pts for f in out] == [0, 1, 2]
    assert out[0].image.dtype == np.uint16
    assert 1000 < int(out[1].image[0, 0, 0]) < 1100


@pytest.mark.parametrize("strength", [-0.1, 1.0, 3])
def test_out_of_range_strength_is_refused(strength):
    with pytest.raises(UsageError, match="--temporal-smooth"):
        list(smooth_frames(_frames([np.zeros((4, 4, 3), np.uint8)]), strength))

