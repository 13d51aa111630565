"""Decode thread -> bounded queue -> transform on the caller's thread -> bounded queue -> encode thread.

The GPU work (``transform``) stays on the calling thread, so CUDA state and Ctrl-C behave as usual; the
source and the sink run on two daemon threads so the GPU never waits on I/O. Every blocking queue operation
polls a shared stop event, so a failure anywhere (or KeyboardInterrupt in the caller) stops all three stages
within a fraction of a second, without deadlocking on full queues. The first failure is re-raised in the
caller as the original exception.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from types import GeneratorType
from typing import Any, TypeVar

from vrestore.engine.profile import NO_PROFILE, StageProfile
from vrestore.errors import UsageError

In = TypeVar("In")
Out = TypeVar("Out")

_POLL_S = 0.05
_JOIN_S = 5.0
_END = object()


class _Stopped(BaseException):
    """Internal: another stage failed; unwinds the transform (BaseException so no ``except Exception`` eats it)."""


def run_pipeline(
    source: Iterable[In],
    transform: Callable[[Iterable[In]], Iterator[Out]],
    sink: Callable[[Out], None],
    *,
    queue_size: int = 8,
    on_frame: Callable[[int], None] | None = None,
    profile: StageProfile = NO_PROFILE,
) -> int:
    """Run ``sink(x) for x in transform(source)`` on three threads; return the number of items written.

    ``source`` is iterated on a decode thread (and closed there if it is a generator), ``transform`` runs
    on the calling thread, ``sink`` and ``on_frame(n_written)`` are called on the encode thread after
    each item. Both queues hold at most ``queue_size`` items. Any exception in any stage stops all stages
    and is re-raised here; the threads are daemons and are joined before returning. ``profile`` receives
    the seconds spent decoding (in ``source``), encoding (in ``sink``) and waiting for the encoder (idle).
    """
    if queue_size < 1:
        raise UsageError(f"queue size must be at least 1, got {queue_size}")
    stop = threading.Event()
    errors: list[BaseException] = []
    inbox: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
    outbox: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
    written = 0

    def fail(exc: BaseException) -> None:
        errors.append(exc)
        stop.set()

    def put(q: queue.Queue[Any], item: Any) -> None:
        while True:
            if stop.is_set():
                raise _Stopped
            try:
                q.put(item, timeout=_POLL_S)
                return
            except queue.Full:
                continue

    def get(q: queue.Queue[Any]) -> Any:
        while True:
            if stop.is_set():
                raise _Stopped
            try:
                return q.get(timeout=_POLL_S)
            except queue.Empty:
                continue

    def decode() -> None:
        iterator = None
        try:
            iterator = iter(source)
            while True:
                started = time.perf_counter()
                item = next(iterator, _END)
                profile.add("decode", time.perf_counter() - started)
                if item is _END:
                    break
                put(inbox, item)
            put(inbox, _END)
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001  (handed to the caller)
            fail(exc)
        finally:
            _close(iterator)

    def encode() -> None:
        nonlocal written
        try:
            while (item := get(outbox)) is not _END:
                started = time.perf_counter()
                sink(item)
                profile.add("encode", time.perf_counter() - started)
                written += 1
                if on_frame is not None:
                    on_frame(written)
        except _Stopped:
            pass
        except BaseException as exc:  # noqa: BLE001  (handed to the caller)
            fail(exc)

    def inputs() -> Iterator[In]:
        while (item := get(inbox)) is not _END:
            yield item

    threads = [
        threading.Thread(target=decode, name="vrestore-decode", daemon=True),
        threading.Thread(target=encode, name="vrestore-encode", daemon=True),
    ]
    for thread in threads:
        thread.start()
    outputs: Iterator[Out] | None = None
    try:
        outputs = transform(inputs())
        for item in outputs:
            started = time.perf_counter()
            put(outbox, item)
            profile.add("idle", time.perf_counter() - started)
        put(outbox, _END)
        while threads[1].is_alive():
            threads[1].join(_POLL_S)
    except _Stopped:
        pass  # a worker failed; its exception is raised below
    finally:
        stop.set()
        _close(outputs)
        deadline = time.monotonic() + _JOIN_S
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
    if errors:
        raise errors[0]
    return written


def _close(iterator: object) -> None:
    # Only generators: an iterator object (a reader) belongs to the caller, who closes it.
    if isinstance(iterator, GeneratorType):
        iterator.close()


def prefetch(source: Iterable[In], depth: int = 8, on_wait: Callable[[], None] | None = None) -> Iterator[In]:
    """Iterate ``source`` on a background thread, ``depth`` items ahead of the consumer.

    Exceptions of the source are re-raised in the consumer; closing the returned generator (or leaving
    its loop) stops the thread. ``on_wait`` is called on the consumer's thread about every 50 ms while it
    waits for an item (to report what the source is doing meanwhile).
    """
    box: queue.Queue[Any] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def offer(item: Any) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def fill() -> None:
        try:
            for item in source:
                if not offer(item):
                    return
            offer(_END)
        except BaseException as exc:  # forwarded to the consumer
            offer(_Failure(exc))
        finally:
            _close(source)

    thread = threading.Thread(target=fill, name="vrestore-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = box.get(timeout=_POLL_S)
            except queue.Empty:
                if on_wait is not None:
                    on_wait()
                continue
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error
