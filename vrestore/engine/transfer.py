"""Frames between host and device without stalling the device.

On CUDA the upload of a window runs on a side stream (from pinned memory) while the previous window is
still computing, and a download only *starts* (quantise on the device, non-blocking copy into pinned memory,
an event recorded); :meth:`PendingImages.wait` finishes it later, after the next window's kernels are queued.
On the CPU the same calls run synchronously.
"""

from __future__ import annotations

import numpy as np
import torch

from vrestore.convert import host_to_clip, host_to_images, quantize


class Uploader:
    """Copies stacked host frames (T,H,W,3) to ``device`` as a float clip (1,T,3,H,W)."""

    def __init__(self, device: torch.device | str) -> None:
        self.device = torch.device(device)
        self.stream = torch.cuda.Stream(self.device) if self.device.type == "cuda" else None

    def __call__(self, host: torch.Tensor, peak: int) -> torch.Tensor:
        if self.stream is None:
            return host_to_clip(host, peak, self.device)
        compute = torch.cuda.current_stream(self.device)
        with torch.cuda.stream(self.stream):
            data = host.to(self.device, non_blocking=True)
        compute.wait_stream(self.stream)
        # The tensor was allocated on the side stream but is used (and freed) on the compute stream.
        data.record_stream(compute)
        return host_to_clip(data, peak, self.device)


class PendingImages:
    """A download in flight: integer images being copied to the host; ``wait()`` returns them as arrays."""

    def __init__(self, host: torch.Tensor, dtype: np.dtype, event: torch.cuda.Event | None = None) -> None:
        self.host = host
        self.dtype = dtype
        self.event = event

    def wait(self) -> list[np.ndarray]:
        """Block until the copy is done; T arrays (H,W,3) of ``dtype``."""
        if self.event is not None:
            self.event.synchronize()
        return host_to_images(self.host, self.dtype)


def start_download(clip: torch.Tensor, dtype: np.dtype) -> PendingImages:
    """Quantise a float clip (T,3,H,W) to ``dtype`` where it lives and start copying it to the host."""
    q = quantize(clip, dtype)
    if q.device.type != "cuda":
        return PendingImages(q, dtype)
    host = torch.empty(q.shape, dtype=q.dtype, pin_memory=True)
    host.copy_(q, non_blocking=True)
    event = torch.cuda.Event()
    event.record(torch.cuda.current_stream(q.device))
    return PendingImages(host, dtype, event)
