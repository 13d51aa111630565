"""Resumption: its checks, the kept state loaded and matched, the temp file, the splice, keeping and discarding."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import write_clip
from vrestore import resume
from vrestore.api import load_model
from vrestore.engine.run_plan import plan_run
from vrestore.engine.splice import resume_point
from vrestore.errors import PartialKept, UsageError
from vrestore.frame import Frame
from vrestore.io.probe import probe
from vrestore.options import ClipOptions, RestoreOptions, TileOptions
from vrestore.resumption import Resumption

RESUME = RestoreOptions(model="tiny.test", device="cpu", resume=True)
PLAIN = RestoreOptions(model="tiny.test", device="cpu")


@pytest.fixture(scope="module")
def model():
    return load_model("tiny.test", device="cpu")


@pytest.fixture()
def source(tmp_path) -> Path:
    images = [np.full((24, 32, 3), 10 * i, np.uint8) for i in range(8)]
    return write_clip(tmp_path / "in.mkv", images, codec="ffv1", pix_fmt="bgr0")


class KeepingWriter:
    """A writer interrupted after ``frames`` frames: ``keep_partial`` leaves a file at ``path``."""

    def __init__(self, path: Path, frames: int) -> None:
        self.path = path
        self.frames = frames
        self.kept = False

    def keep_partial(self) -> int:
        self.kept = True
        if self.frames:
            self.path.write_bytes(b"kept %d" % self.frames)
        return self.frames


def interrupt(resumption: Resumption, writer: KeepingWriter, model, info, cuts=()) -> None:
    plan = resumption.plan(model, info)
    with resumption.keeping_partial(writer, plan, list(cuts)):
        raise KeyboardInterrupt


def kept_state(destination: Path, source: Path, model, frames: int, cuts=(), options=RESUME) -> None:
    """Leave what an interrupted ``--resume`` run leaves: a part of ``frames`` frames and its state."""
    fresh = Resumption.begin(options, destination, source, model)
    with pytest.raises(PartialKept):
        interrupt(fresh, KeepingWriter(resume.part_path(destination), frames), model, probe(source), cuts)


@pytest.mark.parametrize(("options", "output", "fragment"), [
    (RestoreOptions(model="tiny.test", resume=True, temporal_smooth=0.5), "out.mkv", "--temporal-smooth"),
    (RESUME, "frames", "PNG folder"),
], ids=["temporal-smooth", "png-folder"])
def test_check_refuses_what_cannot_be_continued(tmp_path, options, output, fragment):
    with pytest.raises(UsageError, match=fragment):
        Resumption.check(options, tmp_path / output)
    Resumption.check(RestoreOptions(model="tiny.test", temporal_smooth=0.5), tmp_path / output)  # no --resume


def test_check_refuses_a_model_that_carries_state(tmp_path, monkeypatch):
    import vrestore.engine.chunking as chunking

    monkeypatch.setattr(chunking, "carries_state", lambda spec: True)
    with pytest.raises(UsageError, match="recurrent state"):
        Resumption.check(RESUME, tmp_path / "out.mkv")


def test_a_fresh_run_replaces_a_kept_part_and_discards_it_when_done(tmp_path, source, model):
    output = tmp_path / "out.mkv"
    kept_state(output, source, model, frames=5)
    part, state = resume.part_path(output), resume.state_path(output)
    plain = Resumption.begin(PLAIN, output, source, model)  # without --resume the kept state is not read
    assert plain.state is None and plain.temp_path is None
    info = probe(source)
    assert plain.plan(model, info) == plan_run(model, PLAIN, info.height, info.width) and plain.start == 0
    plain.writer_opened()  # the writer writes to the part's name: the state no longer describes it
    assert part.exists() and not state.exists()
    plain.finish()
    assert not part.exists()


def test_an_interrupt_keeps_the_partial_output_and_its_state(tmp_path, source, model):
    output = tmp_path / "out.mkv"
    fresh = Resumption.begin(RESUME, output, source, model)
    assert fresh.state is None and fresh.temp_path is None
    writer = KeepingWriter(resume.part_path(output), frames=5)
    with pytest.raises(PartialKept) as excinfo:
        interrupt(fresh, writer, model, probe(source), cuts=[3, 6])
    assert excinfo.value.frames == 5 and excinfo.value.part == resume.part_path(output)
    state = resume.load(output)
    assert state is not None and state.frames_done == 5 and state.cuts == [3]  # cuts after the kept frames go
    assert state.input == resume.input_identity(source) and state.model == "tiny.test"


@pytest.mark.parametrize("frames", [0, 5])
def test_without_resume_or_without_frames_the_interrupt_goes_on(tmp_path, source, model, frames):
    output = tmp_path / "out.mkv"
    options = RESUME if frames == 0 else PLAIN
    writer = KeepingWriter(resume.part_path(output), frames)
    with pytest.raises(KeyboardInterrupt) as excinfo:
        interrupt(Resumption.begin(options, output, source, model), writer, model, probe(source))
    assert not isinstance(excinfo.value, PartialKept)
    assert writer.kept == options.resume and not resume.state_path(output).exists()


def test_a_kept_state_is_continued_from_its_sizes_and_restart_point(tmp_path, source, model):
    output = tmp_path / "out.mkv"
    kept_state(output, source, model, frames=5)
    again = Resumption.begin(RESUME, output, source, model)
    assert again.state is not None and again.state.frames_done == 5
    assert again.temp_path == resume.next_path(output)
    plan = again.plan(model, probe(source))
    assert plan.how == "resumed" and (again.start, again.first) == resume_point(5, plan.clip, [])
    again.writer_opened()
    assert resume.state_path(output).exists()  # a continued run writes beside the part: the state stays


def test_a_state_made_with_other_options_is_refused(tmp_path, source, model):
    output = tmp_path / "out.mkv"
    kept_state(output, source, model, frames=5)
    other = RestoreOptions(model="tiny.test", device="cpu", resume=True, tile=TileOptions(size=16))
    with pytest.raises(UsageError, match="other options"):
        Resumption.begin(other, output, source, model)


@pytest.mark.parametrize(("frames", "kept"), [(3, 5), (7, 7)], ids=["fewer", "more"])
def test_a_continued_run_replaces_the_part_only_with_more_frames(tmp_path, source, model, frames, kept):
    output = tmp_path / "out.mkv"
    kept_state(output, source, model, frames=5)
    again = Resumption.begin(RESUME, output, source, model)
    with pytest.raises(PartialKept) as excinfo:
        interrupt(again, KeepingWriter(resume.next_path(output), frames), model, probe(source))
    assert excinfo.value.frames == kept and resume.load(output).frames_done == kept
    assert resume.part_path(output).read_bytes() == b"kept %d" % kept
    assert not resume.next_path(output).exists()


def test_the_transform_splices_kept_frames_before_restored_ones(tmp_path, source, model):
    output = tmp_path / "out.mkv"
    options = replace(RESUME, clip=ClipOptions(length=2, overlap=0))  # windows short enough to skip some
    kept_state(output, source, model, frames=5, options=options)
    # The kept part: frames of value 200 (what the interrupted run wrote).
    write_clip(resume.part_path(output), [np.full((24, 32, 3), 200, np.uint8)] * 5, codec="ffv1", pix_fmt="bgr0")
    again = Resumption.begin(options, output, source, model)
    again.plan(model, probe(source))
    seen: list[int] = []

    def marked(frames):
        for frame in frames:
            seen.append(frame.index)
            yield frame

    def restore(frames):
        for frame in frames:
            yield frame.with_image(np.full_like(frame.image, 1))

    frames = [Frame(np.full((24, 32, 3), i, np.uint8), pts=i, time_base=None, index=i) for i in range(8)]
    with ExitStack() as stack:
        out = [int(f.image[0, 0, 0]) for f in again.transform(marked, restore, stack)(frames)]
    first = again.first
    assert 0 < first <= 5 and out == [200] * first + [1] * (8 - first) and seen == list(range(8))
    with ExitStack() as stack:
        plain = Resumption.begin(PLAIN, output, source, model)
        assert [int(f.image[0, 0, 0]) for f in plain.transform(marked, restore, stack)(frames)] == [1] * 8
