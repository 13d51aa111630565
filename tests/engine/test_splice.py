"""Resuming at a window boundary gives the frames of an uninterrupted run, bit for bit (engine/splice.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tests.engine.toy_models import Identity, WindowMean, make_frames, make_model
from vrestore.engine.chunking import resolve_clip
from vrestore.engine.cuts import mark_cuts
from vrestore.engine.runner import restore_frames
from vrestore.engine.splice import resume_point, splice
from vrestore.errors import InputError, UsageError
from vrestore.models.spec import Temporal
from vrestore.options import ClipOptions


class WindowSensitive(nn.Module):
    """CLIP model whose every output depends on the whole window and on the frame's place in it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        place = torch.arange(t, dtype=x.dtype).view(1, t, 1, 1, 1) / t
        return 0.8 * x + 0.15 * x.mean(dim=1, keepdim=True) + 0.05 * place


CASES = {
    "clip": (WindowSensitive, dict(temporal=Temporal.CLIP, temporal_radius=2), ClipOptions(8, 3)),
    "clip-keyframes": (WindowSensitive, dict(temporal=Temporal.CLIP, temporal_radius=2, uses_keyframes=True,
                                             keyframe_interval=3), ClipOptions(9, 2)),
    "window": (WindowMean, dict(temporal=Temporal.WINDOW, temporal_radius=1), ClipOptions(6)),
    "none": (Identity, dict(temporal=Temporal.NONE), ClipOptions(4)),
}


def _run(case: str, n: int):
    factory, fields, clip = CASES[case]
    model = make_model(factory(), **fields)
    frames = make_frames(n, 12, 10, seed=n)

    def restore(items):
        return restore_frames(items, model, clip=clip, stage_ahead=0)

    reference = list(restore(frames))
    return model, clip, frames, restore, reference


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("n", [7, 23, 26])
def test_resumed_stream_equals_uninterrupted(case, n):
    model, clip, frames, restore, reference = _run(case, n)
    settings = resolve_clip(model.spec, clip)
    for done in range(n + 1):
        start, first = resume_point(done, settings)
        assert 0 <= start <= first <= done
        kept = [frame.image for frame in reference[:done]]
        resumed = list(splice(frames, kept, start, first, restore))
        assert [f.index for f in resumed] == list(range(n))
        assert [f.pts for f in resumed] == [f.pts for f in frames]
        for got, want in zip(resumed, reference, strict=True):
            assert np.array_equal(got.image, want.image), (case, n, done, got.index)


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("cuts", [[5], [9, 10], [3, 17]])
def test_resumed_stream_with_cuts_equals_uninterrupted(case, cuts):
    """Windows restart at the cuts (frames marked ``shot_start``); a resume inside any shot is still exact."""
    factory, fields, clip = CASES[case]
    model = make_model(factory(), **fields)
    frames = list(mark_cuts(make_frames(26, 12, 10, seed=3), given=cuts))

    def restore(items):
        return restore_frames(items, model, clip=clip, stage_ahead=0)

    reference = list(restore(frames))
    plain = list(restore(make_frames(26, 12, 10, seed=3)))
    if case != "none":
        assert any(not np.array_equal(a.image, b.image) for a, b in zip(reference, plain, strict=True)), \
            "the cuts change the windows"
    settings = resolve_clip(model.spec, clip)
    for done in range(27):
        start, first = resume_point(done, settings, cuts)
        assert 0 <= start <= first <= done
        resumed = list(splice(frames, [f.image for f in reference[:done]], start, first, restore))
        for got, want in zip(resumed, reference, strict=True):
            assert np.array_equal(got.image, want.image), (case, cuts, done, got.index)


def test_resume_point_restarts_at_a_cut():
    settings = resolve_clip(make_model(WindowSensitive(), temporal=Temporal.CLIP).spec, ClipOptions(8, 2))
    assert resume_point(7, settings, [5]) == (5, 5)
    assert resume_point(14, settings, [5]) == (5, 5)
    assert resume_point(20, settings, [5]) == (11, 12)
    assert resume_point(20, settings, [21]) == (12, 13)


def test_resume_point_skips_whole_windows():
    settings = resolve_clip(make_model(WindowSensitive(), temporal=Temporal.CLIP).spec, ClipOptions(8, 2))
    assert resume_point(7, settings) == (0, 0)  # not one full window written yet
    assert resume_point(14, settings) == (6, 7)  # window 1 (frames 6..13) keeps 7.. in the full run
    assert resume_point(20, settings) == (12, 13)


def test_a_restart_off_the_window_grid_would_differ():
    """The check above can fail: restarting at the frames done instead of a window start changes frames."""
    _, _, frames, restore, reference = _run("clip", 26)
    done = 15
    naive = list(splice(frames, [f.image for f in reference[:done]], done, done, restore))
    assert any(not np.array_equal(a.image, b.image) for a, b in zip(naive, reference, strict=True))


def test_too_few_kept_frames_is_an_input_error():
    model, clip, frames, restore, reference = _run("clip", 23)
    start, first = resume_point(20, resolve_clip(model.spec, clip))
    with pytest.raises(InputError, match="fewer than"):
        list(splice(frames, [f.image for f in reference[: first - 1]], start, first, restore))


def test_stateful_models_cannot_be_resumed():
    spec = make_model(Identity(), temporal=Temporal.CLIP, stateful=True).spec
    with pytest.raises(UsageError, match="state"):
        resume_point(40, resolve_clip(spec, ClipOptions(8)))
