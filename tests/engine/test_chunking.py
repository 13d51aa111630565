"""Streaming windows equal the planned windows; default clip settings per model kind."""

from __future__ import annotations

import logging
import random

import pytest

from tests.helpers import Counted, random_window
from vrestore.engine.chunking import resolve_clip, stream_windows
from vrestore.engine.plan import plan_windows, window_step
from vrestore.errors import UsageError
from vrestore.models.spec import ModelSpec, Temporal
from vrestore.options import ClipOptions

from .toy_models import Identity


def check_stream(n: int, length: int, overlap: int, k: int | None, shift_last: bool) -> None:
    source = Counted(range(n))

    step = window_step(length, overlap, k)
    streamed = []
    for window, items in stream_windows(source, length, overlap, k, shift_last=shift_last):
        assert items == list(range(window.start, window.stop))
        assert source.pulled - window.start <= (length + step if shift_last else length + 1), "bounded look-ahead"
        streamed.append(window)
    assert streamed == plan_windows(n, length, overlap, k, shift_last=shift_last)


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 16, 17, 30, 64])
@pytest.mark.parametrize("length, overlap, k", [(1, 0, None), (8, 0, None), (8, 2, None), (8, 4, 2), (5, 4, None)])
@pytest.mark.parametrize("shift_last", [True, False])
def test_stream_equals_plan(n: int, length: int, overlap: int, k: int | None, shift_last: bool) -> None:
    check_stream(n, length, overlap, k, shift_last)


def test_stream_equals_plan_random_sweep() -> None:
    rng = random.Random(5)
    for _ in range(300):
        length, overlap, k = random_window(rng)
        check_stream(rng.randint(0, 120), length, overlap, k, rng.random() < 0.6)


def spec(**fields: object) -> ModelSpec:
    return ModelSpec(id="toy.test", factory=Identity, task="test", **fields)


@pytest.mark.parametrize(
    "fields, options, expected",
    [
        (dict(), None, (8, 0, None, False)),
        (dict(), ClipOptions(3, 2), (3, 0, None, False)),
        (dict(temporal=Temporal.WINDOW, temporal_radius=1), None, (16, 2, None, True)),
        (dict(temporal=Temporal.WINDOW, temporal_radius=3), None, (24, 6, None, True)),
        (dict(temporal=Temporal.CLIP, temporal_radius=2), None, (16, 4, None, True)),
        (dict(temporal=Temporal.CLIP, temporal_radius=4, clip_length=6), None, (6, 3, None, True)),
        (dict(temporal=Temporal.CLIP, temporal_radius=4), ClipOptions(10), (10, 5, None, True)),
        (dict(temporal=Temporal.CLIP, temporal_radius=4), ClipOptions(None, 1), (16, 1, None, True)),
        (dict(temporal=Temporal.CLIP, stateful=True, temporal_radius=3), None, (16, 0, None, False)),
        (
            dict(temporal=Temporal.CLIP, temporal_radius=4, clip_length=10, uses_keyframes=True, keyframe_interval=4),
            None,
            (12, 6, 4, True),  # step 6 rounds down to 4: windows actually share 8 frames
        ),
        (
            dict(temporal=Temporal.CLIP, temporal_radius=8, clip_length=8, uses_keyframes=True, keyframe_interval=8),
            None,
            (8, 0, 8, True),
        ),
    ],
)
def test_default_clip_settings(fields: dict, options: ClipOptions | None, expected: tuple) -> None:
    settings = resolve_clip(spec(**fields), options)
    assert (settings.length, settings.overlap, settings.keyframe_interval, settings.shift_last) == expected


def test_explicit_overlap_of_a_stateful_model_is_ignored(caplog: pytest.LogCaptureFixture) -> None:
    # resolve_clip is pure: run_plan says once that the overlap is ignored (tests/engine/test_run_plan.py).
    with caplog.at_level(logging.WARNING, logger="vrestore"):
        settings = resolve_clip(spec(temporal=Temporal.CLIP, stateful=True), ClipOptions(8, 2))
    assert settings.overlap == 0 and not caplog.text


@pytest.mark.parametrize(
    "fields, options, match",
    [
        (dict(temporal=Temporal.CLIP), ClipOptions(4, 4), "overlap 4 must be smaller"),
        (dict(temporal=Temporal.CLIP), ClipOptions(0), "clip length must be at least 1"),
        (dict(temporal=Temporal.CLIP, uses_keyframes=True, keyframe_interval=4), ClipOptions(6, 3), "key-frame"),
    ],
)
def test_bad_clip_options(fields: dict, options: ClipOptions, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        resolve_clip(spec(**fields), options)
