"""Per-stage wall-clock timing of a restore: where the seconds go.

Stages: ``decode`` (reading and decoding frames, decode thread), ``upload`` (stacking frames into a host
tensor and copying it to the device), ``model`` (tiled inference), ``download`` (quantising on the device,
copying back, splitting into images), ``encode`` (encoding and writing, encode thread) and ``idle`` (the
model thread waiting for frames to decode or for the encoder to take its output). Decode and encode run
beside the model thread, so the stages overlap and their sum exceeds the wall time; in a well-fed run
``model`` is close to the wall time and ``idle`` is small.

CUDA work is asynchronous, so a device stage is only attributed correctly if the device is synchronised
at its borders; :class:`StageProfile` does that only when enabled (profiling costs a little throughput),
and the disabled profile (:data:`NO_PROFILE`) does nothing at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # torch only where a device is profiled: `vrestore eval` on the CPU never imports it
    import torch

STAGES = ("decode", "upload", "model", "download", "encode", "idle")
_DEVICE_STAGES = frozenset({"upload", "model", "download"})


class StageProfile:
    """Accumulates seconds per stage from any thread; ``report()`` gives a JSON-ready dict."""

    def __init__(self, device: torch.device | str | None = None, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self.device: torch.device | None = None
        if device is not None:
            import torch

            self.device = torch.device(device)
        self._seconds = dict.fromkeys(STAGES, 0.0)
        self._lock = threading.Lock()
        self._started = time.perf_counter()
        self._wall: float | None = None

    def add(self, stage: str, seconds: float) -> None:
        """Add ``seconds`` to ``stage`` (an unknown stage name is a programming error)."""
        if not self.enabled:
            return
        if stage not in self._seconds:
            raise KeyError(f"unknown profile stage '{stage}'; expected one of {', '.join(STAGES)}")
        with self._lock:
            self._seconds[stage] += seconds

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Time the block as ``name``; device stages synchronise CUDA at both ends when enabled."""
        if not self.enabled:
            yield
            return
        sync = name in _DEVICE_STAGES and self._is_cuda()
        if sync:
            self._synchronize()
        start = time.perf_counter()
        try:
            yield
        finally:
            if sync:
                self._synchronize()
            self.add(name, time.perf_counter() - start)

    def restart(self) -> None:
        """Start the wall clock now (call when the first frame is requested)."""
        self._started = time.perf_counter()

    def finish(self) -> None:
        """Stop the wall clock."""
        self._wall = time.perf_counter() - self._started

    def seconds(self, stage: str) -> float:
        """Seconds accumulated so far for ``stage``."""
        with self._lock:
            return self._seconds[stage]

    def report(self) -> dict[str, float]:
        """``{stage: seconds, ..., "wall": seconds}`` rounded to milliseconds; peak VRAM in MiB on CUDA."""
        wall = self._wall if self._wall is not None else time.perf_counter() - self._started
        with self._lock:
            out = {name: round(value, 3) for name, value in self._seconds.items()}
        out["wall"] = round(wall, 3)
        if self._is_cuda():
            import torch

            out["peak_vram_mib"] = round(torch.cuda.max_memory_allocated(self.device) / 2**20, 1)
        return out

    def _is_cuda(self) -> bool:
        return self.device is not None and self.device.type == "cuda"

    def _synchronize(self) -> None:
        import torch

        torch.cuda.synchronize(self.device)


NO_PROFILE = StageProfile(enabled=False)
