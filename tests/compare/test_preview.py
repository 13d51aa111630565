"""restore --preview's building block: the first frames restored beside the input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import count_probes_and_checks, make_video
from vrestore.api import load_model
from vrestore.compare.preview import preview_path, write_preview
from vrestore.io.probe import probe
from vrestore.io.reader import open_reader
from vrestore.options import RestoreOptions


def test_preview_path():
    assert preview_path(Path("out/clip.mkv")) == Path("out/clip.preview.mp4")
    assert preview_path(Path("frames_out")) == Path("frames_out.preview.mp4")


def test_preview_holds_input_and_restored_side_by_side(tmp_path):
    source = make_video(tmp_path / "in.mp4", frames=12, size=(64, 48))
    model = load_model("tiny.test", device="cpu")
    result = write_preview(source, tmp_path / "p.mkv", model, RestoreOptions(model="tiny.test"), frames=5)
    info = probe(tmp_path / "p.mkv")
    assert info.frame_count == 5 == result.frames
    assert info.width >= 2 * 64 and info.height > 48
    with open_reader(source) as reader:
        first_input = next(iter(reader)).image
    with open_reader(tmp_path / "p.mkv") as reader:
        picture = next(iter(reader)).image
    band = info.height - 48
    left = picture[band:, :64].astype(int)
    # The left panel is the input (up to the lossy preview encode).
    assert np.abs(left - first_input.astype(int)).mean() < 4
    assert picture[: band // 2].max() > 0  # a label was drawn



def test_preview_restores_with_the_full_runs_plan(tmp_path, monkeypatch):
    import vrestore.engine.runner as runner
    from vrestore.engine.run_plan import plan_run

    plans = []
    restore_frames = runner.restore_frames

    def spy(frames, model, *args, plan=None, **kwargs):
        plans.append(plan)
        return restore_frames(frames, model, *args, plan=plan, **kwargs)

    monkeypatch.setattr(runner, "restore_frames", spy)
    source = make_video(tmp_path / "in.mp4", frames=6, size=(64, 48))
    model = load_model("tiny.test", device="cpu")
    options = RestoreOptions(model="tiny.test")
    write_preview(source, tmp_path / "p.mkv", model, options, frames=3)
    assert plans == [plan_run(model, options, 48, 64)]


@pytest.mark.parametrize("named", [True, False], ids=["output-given", "default-output"])
def test_preview_only_probes_the_input_once(tmp_path, monkeypatch, named):
    from vrestore.batch_restore import restore_many

    calls = count_probes_and_checks(monkeypatch)
    source = make_video(tmp_path / "in.mp4", frames=6, size=(64, 48))
    output = tmp_path / "out.mkv" if named else None
    [outcome] = restore_many([(source, output)], RestoreOptions(model="tiny.test", device="cpu"), preview=3,
                             preview_only=True)
    expected = tmp_path / ("out.preview.mp4" if named else "in_restored.preview.mp4")
    assert outcome.status == "preview" and outcome.output == str(expected) and outcome.frames == 3
    assert calls["probe"] == 1
