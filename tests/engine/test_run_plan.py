"""One RunPlan per restore: the sizes chosen once, validated before any output, recorded for resume and --json."""

from __future__ import annotations

import logging

import pytest
import torch

from vrestore.engine.autosize import CPU_WINDOW_FACTOR, choose_sizes
from vrestore.engine.chunking import resolve_clip
from vrestore.engine.run_plan import RunPlan, fixed_plan, plan_run, resumed_plan
from vrestore.errors import UsageError
from vrestore.models import get_spec
from vrestore.models.loaded import LoadedModel
from vrestore.models.spec import Temporal
from vrestore.options import ClipOptions, CutOptions, RestoreOptions, TileOptions

from .toy_models import Identity, make_model


def clip_model(**fields) -> LoadedModel:
    return make_model(Identity(), temporal=Temporal.CLIP, temporal_radius=1, **fields)


def test_cpu_plan_holds_the_choice_device_precision_and_cuts() -> None:
    model = clip_model(default_tile=256)
    options = RestoreOptions(cuts=CutOptions(given=(5,)))
    plan = plan_run(model, options, 720, 1280)
    choice = choose_sizes(model, 720, 1280, options.tile, options.clip)
    assert (plan.tile, plan.clip, plan.how, plan.note) == (choice.tile, choice.clip, "cpu", choice.note)
    assert (plan.model, plan.device, plan.dtype, plan.cuts) == ("toy.test", "cpu", "fp32", CutOptions(given=(5,)))
    assert plan.sizes() == {"tile": 256, "tile_overlap": 16, "clip": 16 * CPU_WINDOW_FACTOR, "clip_overlap": 2,
                            "how": "cpu", "note": choice.note}


def test_resume_sizes_give_back_the_same_plan() -> None:
    model = clip_model()
    plan = plan_run(model, RestoreOptions(), 360, 640)
    assert not plan.clip.shift_last  # the CPU rule, which a resumed run must keep
    again = resumed_plan(model, RestoreOptions(), plan.resume_sizes(), 40)
    assert (again.tile, again.clip) == (plan.tile, plan.clip)
    assert (again.how, again.note) == ("resumed", "continued after 40 frames")


def test_a_version_2_state_written_before_run_plan_still_reads() -> None:
    # The interrupted run recorded the clip *options* (shift_last None or False), not the resolved windows.
    spec = get_spec("pgdenet.tud")
    model = LoadedModel(spec, torch.nn.Identity())
    tile = {"size": 0, "overlap": 16, "min_size": 64}
    cpu = {"tile": tile, "clip": {"length": 96, "overlap": 12, "shift_last": False}}
    plan = resumed_plan(model, RestoreOptions(), cpu, 100)
    assert plan.clip == resolve_clip(spec, ClipOptions(96, 12, shift_last=False))
    given = {"tile": tile, "clip": {"length": 48, "overlap": 12, "shift_last": None}}
    assert resumed_plan(model, RestoreOptions(), given, 100).clip.shift_last


@pytest.mark.parametrize(
    ("tile", "clip", "match"),
    [(TileOptions(8, 16), ClipOptions(), "overlap 16 must be smaller than the tile size 8; lower --tile-overlap"),
     (TileOptions(None, 300), ClipOptions(), "tile size 256"),  # the model's default tile counts
     (TileOptions(-3), ClipOptions(), "tile size must be >= 0"),
     (TileOptions(), ClipOptions(4, 4), "clip overlap 4 must be smaller")],
)
def test_bad_sizes_are_refused_by_every_plan(tile: TileOptions, clip: ClipOptions, match: str) -> None:
    model = clip_model(default_tile=256)
    options = RestoreOptions(tile=tile, clip=clip)
    with pytest.raises(UsageError, match=match):
        plan_run(model, options, 64, 64)
    with pytest.raises(UsageError, match=match):
        fixed_plan(model, tile, clip)


def test_an_ignored_overlap_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    model = clip_model(stateful=True)
    with caplog.at_level(logging.WARNING, logger="vrestore"):
        plan = plan_run(model, RestoreOptions(clip=ClipOptions(overlap=4)), 360, 640)
    assert plan.clip.overlap == 0
    assert [r.getMessage() for r in caplog.records] == [
        "model toy.test carries its state across windows; --clip-overlap 4 is ignored"]


def test_fixed_plan_takes_sizes_as_given() -> None:
    model = clip_model(default_tile=48)
    plan = fixed_plan(model, TileOptions(overlap=4), ClipOptions(6))
    assert isinstance(plan, RunPlan) and plan.how == "given"
    assert (plan.tile.size, plan.tile.overlap, plan.clip.length) == (48, 4, 6)
    assert fixed_plan(clip_model()).tile.size == 0  # no default tile: whole frames
