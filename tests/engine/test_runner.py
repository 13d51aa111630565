"""restore_frames: one frame out per frame in, exact for identity, chunked equals whole, bounded memory."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
import torch

from vrestore.convert import clip_to_images, images_to_clip
from vrestore.engine.runner import STAGE_AHEAD, restore_frames
from vrestore.errors import InputError, UsageError
from vrestore.filters.motion_average import RADIUS, motion_average_images
from vrestore.frame import Frame
from vrestore.models import build, get_spec
from vrestore.models.loaded import LoadedModel
from vrestore.models.spec import Temporal
from vrestore.options import ClipOptions, TileOptions

from .toy_models import (
    Identity,
    KeyframeMarker,
    PixelShuffleUp,
    RunningAverage,
    TemporalAverage,
    WindowCentre,
    WindowMean,
    make_frames,
    make_model,
)


def whole_sequence(model: LoadedModel, frames: list[Frame]) -> list[np.ndarray]:
    """The reference: the whole video in one clip, one tile."""
    clip = images_to_clip([f.image for f in frames])
    out, _ = model.run(clip)
    return clip_to_images(out, frames[0].image.dtype)


def assert_same_timing(outs: list[Frame], frames: list[Frame]) -> None:
    assert len(outs) == len(frames)
    for out, frame in zip(outs, frames, strict=True):
        assert (out.pts, out.time_base, out.index, out.duration, out.is_key) == (
            frame.pts,
            frame.time_base,
            frame.index,
            frame.duration,
            frame.is_key,
        )


IDENTITY_KINDS = {
    "none": dict(),
    "clip": dict(temporal=Temporal.CLIP, temporal_radius=2),
    "window": dict(temporal=Temporal.WINDOW, temporal_radius=1),
}


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("kind", sorted(IDENTITY_KINDS))
@pytest.mark.parametrize("window_feather", [0.0, 1.0])
def test_identity_is_exact(dtype: type, kind: str, window_feather: float) -> None:
    module = Identity() if kind != "window" else WindowCentre()
    model = make_model(module, multiple_of=4, **IDENTITY_KINDS[kind])
    frames = make_frames(23, 19, 26, dtype)
    outs = list(
        restore_frames(frames, model, TileOptions(8, 4, min_size=4), ClipOptions(6, 2), window_feather=window_feather)
    )
    assert_same_timing(outs, frames)
    for out, frame in zip(outs, frames, strict=True):
        assert out.image.dtype == dtype and out.image.flags.c_contiguous
        np.testing.assert_array_equal(out.image, frame.image)


def test_stateful_identity_is_exact() -> None:
    model = make_model(RunningAverage(alpha=0.0), temporal=Temporal.CLIP, stateful=True)
    frames = make_frames(11, 16, 16, np.uint16)
    outs = list(restore_frames(frames, model, TileOptions(8, 2, min_size=4), ClipOptions(4)))
    assert [o.index for o in outs] == list(range(11))
    for out, frame in zip(outs, frames, strict=True):
        np.testing.assert_array_equal(out.image, frame.image)


def assert_close_images(outs: list[Frame], expected: list[np.ndarray], lsb: int = 1) -> None:
    assert len(outs) == len(expected)
    for out, ref in zip(outs, expected, strict=True):
        assert out.image.shape == ref.shape and out.image.dtype == ref.dtype
        assert np.abs(out.image.astype(np.int64) - ref.astype(np.int64)).max() <= lsb


def test_temporal_clip_model_chunked_equals_whole_sequence() -> None:
    # Temporal radius 2 -> overlap 4 is exact; spatial radius 1 -> tile overlap 4 with the 0.5 feather.
    model = make_model(TemporalAverage(radius=2), temporal=Temporal.CLIP, temporal_radius=2)
    frames = make_frames(29, 20, 24, np.uint16, seed=1)
    outs = list(restore_frames(frames, model, TileOptions(10, 4, min_size=4), ClipOptions(9)))
    assert_same_timing(outs, frames)
    assert_close_images(outs, whole_sequence(model, frames))


def test_temporal_clip_model_with_too_little_overlap_differs() -> None:
    model = make_model(TemporalAverage(radius=2), temporal=Temporal.CLIP, temporal_radius=2)
    frames = make_frames(20, 8, 8, np.uint16, seed=1)
    outs = list(restore_frames(frames, model, None, ClipOptions(6, 0)))
    diff = max(
        np.abs(o.image.astype(int) - r.astype(int)).max()
        for o, r in zip(outs, whole_sequence(model, frames), strict=True)
    )
    assert diff > 100


def test_stateful_model_chunked_equals_whole_sequence() -> None:
    model = make_model(RunningAverage(), temporal=Temporal.CLIP, stateful=True, clip_length=4)
    frames = make_frames(23, 12, 14, np.uint16, seed=2)
    outs = list(restore_frames(frames, model, TileOptions(6, 2, min_size=4), None))
    assert_close_images(outs, whole_sequence(model, frames))


@pytest.mark.parametrize("cut", [4, 9, 13])
def test_stateful_model_forgets_its_state_at_a_scene_cut(cut: int) -> None:
    # Frames marked as starting a shot (engine/cuts.py) restart the recurrence: the second shot's outputs are
    # those of the second shot restored alone, whether the cut falls on a window start (4) or inside one.
    model = make_model(RunningAverage(), temporal=Temporal.CLIP, stateful=True, clip_length=4)
    frames = make_frames(18, 6, 8, np.uint16, seed=5)
    frames[cut].shot_start = True
    outs = list(restore_frames(frames, model, None, None))
    alone = list(restore_frames([replace(f, index=i) for i, f in enumerate(frames[cut:])], model, None, None))
    assert_close_images(outs[cut:], [f.image for f in alone])
    unmarked = list(restore_frames([replace(f, shot_start=False) for f in frames], model, None, None))
    assert not np.array_equal(unmarked[cut].image, alone[0].image), "without the cut the state carries over"


def test_window_model_chunked_equals_whole_sequence() -> None:
    model = make_model(WindowMean(radius=2), temporal=Temporal.WINDOW, temporal_radius=2)
    frames = make_frames(40, 8, 10, np.uint16, seed=3)
    outs = list(restore_frames(frames, model, None, ClipOptions(10)))
    assert_close_images(outs, whole_sequence(model, frames))


def test_key_frames_fall_on_global_multiples() -> None:
    model = make_model(
        KeyframeMarker(4), temporal=Temporal.CLIP, temporal_radius=1, uses_keyframes=True, keyframe_interval=4
    )
    frames = make_frames(27, 4, 4, seed=4)
    for frame in frames:
        frame.image[..., 0] = 0
    outs = list(restore_frames(frames, model, None, ClipOptions(10)))
    marked = [o.index for o in outs if o.image[..., 0].max() == 255]
    assert marked == list(range(0, 27, 4))


def test_scale_two_model() -> None:
    model = make_model(PixelShuffleUp(), scale=2)
    frames = make_frames(5, 13, 17, np.uint8)
    outs = list(restore_frames(frames, model, TileOptions(8, 4, min_size=4), None))
    assert [o.image.shape for o in outs] == [(26, 34, 3)] * 5
    assert_close_images(outs, whole_sequence(model, frames))


def test_registered_tiny_model_runs() -> None:
    spec = get_spec("tiny.test")
    model = LoadedModel(spec, build(spec))
    frames = make_frames(3, 16, 20)
    outs = list(restore_frames(frames, model, TileOptions(), ClipOptions()))
    assert_same_timing(outs, frames)
    assert_close_images(outs, whole_sequence(model, frames))


@pytest.mark.parametrize("stage_ahead", [0, STAGE_AHEAD])
def test_streaming_holds_about_one_window(stage_ahead: int) -> None:
    model = make_model(TemporalAverage(radius=1), temporal=Temporal.CLIP, temporal_radius=1)
    length, overlap = 8, 2
    refs: list[weakref.ref[Frame]] = []
    pulled = 0

    def source() -> Iterator[Frame]:
        nonlocal pulled
        for i in range(200):
            frame = make_frames(1, 6, 6, seed=i)[0]
            frame.index = i
            refs.append(weakref.ref(frame))
            pulled += 1
            yield frame

    lead = max_alive = yielded = 0
    for out in restore_frames(source(), model, None, ClipOptions(length, overlap), stage_ahead=stage_ahead):
        assert out.index == yielded
        yielded += 1
        lead = max(lead, pulled - yielded)
        max_alive = max(max_alive, sum(ref() is not None for ref in refs))
        del out
    assert yielded == 200
    step = length - overlap
    # One window plus its look-ahead, one window whose download is in flight, and the windows staged ahead
    # (queued plus one in the staging thread).
    extra = step + (stage_ahead + 1) * step if stage_ahead else step
    assert lead <= length + step + extra, "the input is read at most a few windows ahead"
    assert max_alive <= length + step + extra + 1


def test_options_are_validated_before_reading() -> None:
    def source() -> Iterator[Frame]:
        raise AssertionError("must not be read")
        yield

    model = make_model(Identity(), temporal=Temporal.CLIP)
    with pytest.raises(UsageError):
        restore_frames(source(), model, TileOptions(), ClipOptions(4, 4))
    with pytest.raises(UsageError):
        restore_frames(source(), model, TileOptions(8, 8), ClipOptions())


def test_size_change_mid_stream_is_an_input_error() -> None:
    frames = make_frames(3, 8, 8) + make_frames(2, 8, 10)
    with pytest.raises(InputError, match="changed mid-stream"):
        list(restore_frames(frames, make_model(Identity()), None, ClipOptions(2)))


def test_empty_stream() -> None:
    assert list(restore_frames(iter([]), make_model(Identity()), None, None)) == []


def test_consumer_is_not_in_inference_mode() -> None:
    model = make_model(Identity(), temporal=Temporal.CLIP, temporal_radius=1)
    for _ in restore_frames(make_frames(6, 4, 4), model, None, ClipOptions(3, 2), window_feather=1.0):
        assert not torch.is_inference_mode_enabled()


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_a_motion_average_model_sees_the_averaged_video(dtype: type) -> None:
    """With ``motion_average`` the model gets each frame averaged with its aligned neighbours; windows that keep
    RADIUS frames of context each side give exactly the average over the whole video."""
    model = make_model(Identity(), temporal=Temporal.CLIP, temporal_radius=2, motion_average=True)
    rng = np.random.default_rng(3)
    ys, xs = np.mgrid[0:24, 0:32].astype(np.float64)
    peak = np.iinfo(dtype).max
    def panned(t: int) -> np.ndarray:  # a smooth scene moving 2 px per frame, with a little noise
        scene = 0.5 + 0.3 * np.sin((xs + 2 * t) / 5) * np.cos(ys / 7)
        return np.clip(peak * (scene[..., None] + rng.normal(0, 0.03, (24, 32, 3))), 0, peak).astype(dtype)

    frames = [frame.with_image(panned(frame.index)) for frame in make_frames(17, 24, 32, dtype)]
    expected = motion_average_images([f.image for f in frames])
    assert any(not np.array_equal(e, f.image) for e, f in zip(expected, frames, strict=True))
    outs = list(restore_frames(frames, model, TileOptions(0), ClipOptions(8, 2 * RADIUS), window_feather=0.0))
    assert_same_timing(outs, frames)
    for out, ref in zip(outs, expected, strict=True):
        np.testing.assert_array_equal(out.image, ref)


@pytest.mark.parametrize("stage_ahead", [0, STAGE_AHEAD])
def test_the_model_reports_the_motion_average_it_waits_for(stage_ahead: int, monkeypatch) -> None:
    """While the model waits for a window's motion average, ``on_prepare(done, total)`` reports its count, on
    the calling thread, with or without a staging thread (the first window of pgdenet.mc can take a minute)."""
    import threading
    import time

    from vrestore.engine import runner

    averaged = runner.motion_average_images

    def slow_average(images, on_frame=None):
        def frame_done(done: int) -> None:
            time.sleep(0.03)
            on_frame(done)
        return averaged(images, on_frame=frame_done)

    monkeypatch.setattr(runner, "motion_average_images", slow_average)
    model = make_model(Identity(), temporal=Temporal.CLIP, temporal_radius=2, motion_average=True)
    reports: list[tuple[int, int, int]] = []
    outs = list(restore_frames(make_frames(12, 24, 32), model, TileOptions(0), ClipOptions(6, 2),
                               window_feather=0.0, stage_ahead=stage_ahead,
                               on_prepare=lambda done, total: reports.append((done, total, threading.get_ident()))))
    assert len(outs) == 12
    assert {thread for *_, thread in reports} == {threading.get_ident()}
    assert all(0 <= done <= total for done, total, _ in reports)
    assert any(0 < done < total for done, total, _ in reports)  # seen while it ran, not only before or after
    if stage_ahead == 0:  # on the model's thread: every frame of every window, in order
        counts = [done for done, _, _ in reports]
        starts = [i for i, done in enumerate(counts) if done == 0]
        windows = [counts[a:b] for a, b in zip(starts, [*starts[1:], len(counts)], strict=True)]
        assert len(windows) >= 2 and all(w == list(range(len(w))) for w in windows)
