"""run_pipeline: order, counts, errors from every stage, Ctrl-C, bounded read-ahead, no stray threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator

import numpy as np
import pytest

from vrestore.engine.pipeline import run_pipeline
from vrestore.engine.runner import STAGE_AHEAD, restore_frames
from vrestore.errors import UsageError
from vrestore.frame import Frame
from vrestore.models.spec import Temporal
from vrestore.options import ClipOptions

from .toy_models import Identity, make_frames, make_model


def pipeline_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("vrestore-")]


@pytest.fixture(autouse=True)
def no_stray_threads() -> Iterator[None]:
    yield
    assert pipeline_threads() == [], "pipeline threads must be joined"


def double(items: Iterable[int]) -> Iterator[int]:
    for item in items:
        yield 2 * item


@pytest.mark.timeout(20)
@pytest.mark.parametrize("queue_size", [1, 3, 8])
def test_order_and_count(queue_size: int) -> None:
    written: list[int] = []
    progress: list[int] = []
    count = run_pipeline(range(100), double, written.append, queue_size=queue_size, on_frame=progress.append)
    assert count == 100 and written == [2 * i for i in range(100)] and progress == list(range(1, 101))


@pytest.mark.timeout(20)
def test_empty_source() -> None:
    assert run_pipeline([], double, lambda item: None) == 0


@pytest.mark.timeout(20)
def test_transform_runs_on_the_calling_thread() -> None:
    seen = []

    def transform(items: Iterable[int]) -> Iterator[int]:
        for item in items:
            seen.append(threading.current_thread())
            yield item

    run_pipeline(range(5), transform, lambda item: None)
    assert set(seen) == {threading.current_thread()}


class Boom(Exception):
    pass


def failing_source(n: int = 1000, at: int = 10) -> Iterator[int]:
    for i in range(n):
        if i == at:
            raise Boom("source")
        yield i


@pytest.mark.timeout(20)
def test_source_error_is_reraised() -> None:
    written: list[int] = []
    with pytest.raises(Boom, match="source"):
        run_pipeline(failing_source(), double, written.append, queue_size=2)
    assert len(written) <= 10


@pytest.mark.timeout(20)
def test_transform_error_is_reraised_and_source_closed() -> None:
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            yield from range(10**9)
        finally:
            closed.set()

    def transform(items: Iterable[int]) -> Iterator[int]:
        for item in items:
            if item == 5:
                raise Boom("transform")
            yield item

    with pytest.raises(Boom, match="transform"):
        run_pipeline(source(), transform, lambda item: None, queue_size=2)
    assert closed.is_set()


@pytest.mark.timeout(20)
@pytest.mark.parametrize("where", ["sink", "on_frame"])
def test_sink_error_is_reraised_while_queues_are_full(where: str) -> None:
    def sink(item: int) -> None:
        if where == "sink" and item == 6:
            raise Boom("sink")

    def on_frame(n: int) -> None:
        if where == "on_frame" and n == 3:
            raise Boom("on_frame")

    with pytest.raises(Boom, match=where):
        run_pipeline(iter(range(10**9)), double, sink, queue_size=2, on_frame=on_frame)


@pytest.mark.timeout(20)
def test_keyboard_interrupt_in_the_caller_stops_everything() -> None:
    def transform(items: Iterable[int]) -> Iterator[int]:
        for item in items:
            if item == 20:
                raise KeyboardInterrupt
            yield item

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_pipeline(iter(range(10**9)), transform, lambda item: time.sleep(0.001), queue_size=4)
    assert time.monotonic() - started < 5


@pytest.mark.timeout(20)
def test_slow_stages_do_not_lose_items() -> None:
    def slow_source() -> Iterator[int]:
        for i in range(30):
            time.sleep(0.002)
            yield i

    written: list[int] = []
    assert run_pipeline(slow_source(), double, lambda x: (time.sleep(0.003), written.append(x))) == 30
    assert written == [2 * i for i in range(30)]


@pytest.mark.timeout(20)
def test_bounded_read_ahead() -> None:
    queue_size = 3
    pulled = 0
    max_lead = 0
    written = 0

    def source() -> Iterator[int]:
        nonlocal pulled
        for i in range(200):
            pulled += 1
            yield i

    def sink(item: int) -> None:
        nonlocal written, max_lead
        time.sleep(0.0005)
        written += 1
        max_lead = max(max_lead, pulled - written)

    run_pipeline(source(), double, sink, queue_size=queue_size)
    # inbox + outbox + one item held by each of the decode thread, the transform and the sink
    assert written == 200 and max_lead <= 2 * queue_size + 3


@pytest.mark.timeout(20)
def test_with_restore_frames_bounded_by_queues_plus_one_window() -> None:
    model = make_model(Identity(), temporal=Temporal.CLIP, temporal_radius=1)
    length, overlap, queue_size = 6, 2, 2
    pulled = 0
    max_lead = 0
    out: list[Frame] = []

    def source() -> Iterator[Frame]:
        nonlocal pulled
        for frame in make_frames(120, 4, 4):
            pulled += 1
            yield frame

    def sink(frame: Frame) -> None:
        nonlocal max_lead
        out.append(frame)
        max_lead = max(max_lead, pulled - len(out))

    count = run_pipeline(
        source(),
        lambda frames: restore_frames(frames, model, None, ClipOptions(length, overlap)),
        sink,
        queue_size=queue_size,
    )
    assert count == 120 and [f.index for f in out] == list(range(120))
    assert all(np.array_equal(a.image, b.image) for a, b in zip(out, make_frames(120, 4, 4), strict=True))
    # plus the windows stacked ahead (queued and one in the staging thread) and one download in flight
    step = length - overlap
    assert max_lead <= 2 * queue_size + 3 + length + step + (STAGE_AHEAD + 2) * step


def test_bad_queue_size() -> None:
    with pytest.raises(UsageError, match="queue size"):
        run_pipeline([], double, print, queue_size=0)


@pytest.mark.timeout(20)
def test_ctrl_c_while_the_caller_waits_on_a_full_queue() -> None:
    import _thread
    import signal

    # A shell that starts the test run in the background ignores SIGINT; interrupt_main then does nothing.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            run_pipeline(iter(range(10**9)), double, lambda item: time.sleep(0.05), queue_size=2)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - started < 5


@pytest.mark.timeout(20)
def test_prefetch_keeps_order_forwards_errors_and_stops() -> None:
    from vrestore.engine.pipeline import prefetch

    assert list(prefetch(range(50), depth=3)) == list(range(50))

    def failing():
        yield 1
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        list(prefetch(failing()))

    pulled = []

    def counting():
        for i in range(10**6):
            pulled.append(i)
            yield i

    stream = prefetch(counting(), depth=2)
    assert next(stream) == 0
    stream.close()
    assert len(pulled) <= 5


@pytest.mark.timeout(20)
def test_prefetch_calls_on_wait_on_the_consumer_thread_while_the_source_is_slow() -> None:
    from vrestore.engine.pipeline import prefetch

    def slow():
        time.sleep(0.3)
        yield 1

    waits: list[int] = []
    assert list(prefetch(slow(), depth=1, on_wait=lambda: waits.append(threading.get_ident()))) == [1]
    assert len(waits) >= 2 and set(waits) == {threading.get_ident()}
