"""run_stream: every frame through the transform into the writer, closed once on success and never on failure."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pytest

from vrestore.errors import InputError
from vrestore.frame import Frame
from vrestore.io.closing import CloseOnSuccess
from vrestore.io.frames import PngFolderWriter
from vrestore.stream import FrameCounts, Progress, run_stream


def frames(count: int) -> list[Frame]:
    return [Frame(image=np.full((4, 6, 3), i, np.uint8), pts=i, time_base=None, index=i) for i in range(count)]


def invert(stream: Iterable[Frame]) -> Iterator[Frame]:
    for frame in stream:
        yield frame.with_image(255 - frame.image)


class Writer(CloseOnSuccess):
    """Records what happens to it, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.images: list[np.ndarray] = []
        self._closed = False

    def write(self, frame: Frame) -> None:
        self.images.append(frame.image)

    def close(self) -> None:
        self.events.append("close")
        self._closed = True

    def abort(self) -> None:
        self.events.append("abort")


class EmptySource:
    """A reader of a source without a decodable frame: it raises, as every reader does (io/reader.py)."""

    def __iter__(self) -> Iterator[Frame]:
        raise InputError("input 'x' contains no decodable video frames; the file is corrupt or truncated")
        yield  # a generator, like the readers' iterators


@pytest.mark.timeout(20)
def test_writes_every_frame_then_closes_once() -> None:
    writer = Writer()
    done: list[int] = []
    written = run_stream(frames(5), invert, writer, queue_size=2, on_frame=done.append,
                         before_close=lambda n: writer.events.append(f"before_close {n}"))
    assert written == 5 and done == [1, 2, 3, 4, 5]
    assert [int(image[0, 0, 0]) for image in writer.images] == [255, 254, 253, 252, 251]
    assert writer.events == ["before_close 5", "close"]


@pytest.mark.timeout(20)
def test_no_decodable_frame_reaches_the_caller_and_the_writer_stays_open() -> None:
    writer = Writer()
    with pytest.raises(InputError, match="no decodable video frames"):
        run_stream(EmptySource(), invert, writer, queue_size=2, before_close=lambda n: writer.events.append("x"))
    assert writer.events == [] and writer.images == []


@pytest.mark.timeout(20)
@pytest.mark.parametrize("where", ["transform", "before_close"])
def test_a_failure_leaves_closing_to_the_writers_context_manager(where: str) -> None:
    def failing(stream: Iterable[Frame]) -> Iterator[Frame]:
        for frame in stream:
            if frame.index == 2:
                raise RuntimeError("boom")
            yield frame

    def refuse(written: int) -> None:
        raise RuntimeError("boom")

    transform, before_close = (failing, None) if where == "transform" else (invert, refuse)
    with pytest.raises(RuntimeError, match="boom"), Writer() as writer:
        run_stream(frames(4), transform, writer, queue_size=1, before_close=before_close)
    assert writer.events == ["abort"]


@pytest.mark.timeout(20)
def test_real_writer_output_appears_only_after_success(tmp_path: Path) -> None:
    with PngFolderWriter(tmp_path / "ok") as writer:
        assert run_stream(frames(3), invert, writer, queue_size=2) == 3
        assert (tmp_path / "ok").is_dir()  # closed by run_stream, inside the block
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == ["00000000.png", "00000001.png", "00000002.png"]
    with pytest.raises(InputError), PngFolderWriter(tmp_path / "bad") as writer:
        run_stream(EmptySource(), invert, writer, queue_size=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok"]


def test_counts_report_written_and_computed_frames() -> None:
    reports: list[Progress] = []
    counts = FrameCounts(reports.append, 10)
    counts.report()
    counts.computed(2.5)
    counts.written(1)
    counts.written(3)  # the writer has overtaken the model's count
    assert [(p.frames_done, p.frames_total, p.frames_computed) for p in reports] == [
        (0, 10, 0.0), (0, 10, 2.5), (1, 10, 2.5), (3, 10, 3.0)]
    assert all(p.elapsed_s >= 0 for p in reports)
    FrameCounts(None, None).written(1)  # no callback: nothing to report to


def test_counts_report_what_the_model_waits_for_until_it_computes() -> None:
    reports: list[Progress] = []
    counts = FrameCounts(reports.append, 10)
    counts.preparing(0, 6)
    counts.preparing(3, 6)
    counts.preparing(3, 6)  # unchanged: not reported again
    counts.computed(1.5)
    assert [(p.frames_computed, p.preparing) for p in reports] == [(0.0, (0, 6)), (0.0, (3, 6)), (1.5, None)]
