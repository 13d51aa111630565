"""Scoring decoded frame pairs: PSNR and SSIM with BasicSR's conventions, batch by batch.

Frames are RGB (H,W,3) arrays as the readers give them: uint8 (peak 255), or uint16 on the full
0..65535 scale for deeper sources. A deeper source is scored on its own scale: samples are rounded to
0..peak with peak = 2^bits - 1 (1023 for 10-bit), i.e. round(v * peak / 65535). That gives back the code
values of RGB sources and quantises the YUV->RGB conversion of YUV sources to the source depth, as 8-bit
decoding does for 8-bit sources.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import numpy as np

from vrestore.metrics.conventions import Y_OFFSET, Y_WEIGHTS, check_size, psnr_from_mse
from vrestore.metrics.cpu import CpuSsim

if TYPE_CHECKING:
    import torch

Frames = Sequence[np.ndarray]
Scores = tuple[list[float], list[float]]  # (PSNR per pair, SSIM per pair)


def peak_for(dtype: np.dtype, bit_depth: int) -> int:
    """The scale metrics use for frames of ``dtype`` from a source of ``bit_depth`` bits (255, 1023, ...)."""
    if dtype == np.uint8:
        return 255
    return (1 << min(max(bit_depth, 9), 16)) - 1


def to_peak_scale(image: np.ndarray, peak: int) -> np.ndarray:
    """uint16 full-scale samples -> integers on 0..peak (exact rounding); uint8 or peak 65535 unchanged."""
    if image.dtype == np.uint8 or peak == 65535:
        return image
    # v * peak / 65535 is never exactly half-way (65535 is odd), so float64 rint is exact rounding.
    return np.rint(image * (peak / 65535.0)).astype(np.uint16)


class FrameScorer:
    """PSNR (dB, inf when equal) and SSIM of restored/reference frame pairs; use as a context manager.

    ``y_channel`` scores BT.601 luma as BasicSR's ``test_y_channel``; ``crop`` (BasicSR's ``crop_border``)
    drops that many pixels per side first. On the CPU the frames of a batch are scored in parallel on
    ``workers`` threads (default: one per CPU core, at most one per frame of the batch), each reusing its
    buffers; on other devices each batch is one float64 torch computation.
    """

    def __init__(
        self,
        peak: int,
        *,
        y_channel: bool = False,
        crop: int = 0,
        device: str | torch.device = "cpu",
        workers: int | None = None,
    ) -> None:
        self.peak = peak
        self.y_channel = y_channel
        self.crop = crop
        self.device = str(device)  # torch is imported only for other devices
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._local = threading.local()
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> FrameScorer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the worker threads (idempotent)."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def __call__(self, restored: Frames, reference: Frames) -> Scores:
        """Per-pair (PSNR list, SSIM list) of two equally long lists of equally sized RGB frames."""
        if len(restored) != len(reference):
            raise ValueError(f"got {len(restored)} restored and {len(reference)} reference frames")
        if self.device.split(":")[0] != "cpu":
            return self._batch_torch(restored, reference)
        if self.workers == 1 or len(restored) == 1:
            scores = [self._pair_cpu(a, b) for a, b in zip(restored, reference, strict=True)]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="vrestore-metrics")
            scores = list(self._pool.map(self._pair_cpu, restored, reference))
        return [s[0] for s in scores], [s[1] for s in scores]

    def _cropped(self, image: np.ndarray) -> np.ndarray:
        b = self.crop
        return image[b:-b, b:-b] if b > 0 else image

    def _pair_cpu(self, a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
        a, b = self._cropped(to_peak_scale(a, self.peak)), self._cropped(to_peak_scale(b, self.peak))
        check_size(*a.shape[:2])
        if self.y_channel:
            x, y = self._luma(a, 0), self._luma(b, 1)
        else:
            x, y = a.transpose(2, 0, 1), b.transpose(2, 0, 1)  # strided views; the engine reads strips
        engine: CpuSsim | None = getattr(self._local, "engine", None)
        if engine is None or engine.shape != x.shape:
            engine = self._local.engine = CpuSsim(*x.shape)
        sse, value = engine(x, y, self.peak)
        return psnr_from_mse(sse / x.size, self.peak), value

    def _luma(self, image: np.ndarray, slot: int) -> np.ndarray:
        """(H,W,3) RGB -> (1,H,W) float64 BT.601 luma on the 0..peak scale, in a reused per-thread buffer."""
        h, w = image.shape[:2]
        buffers: np.ndarray | None = getattr(self._local, "luma", None)
        if buffers is None or buffers.shape[-2:] != (h, w):
            buffers = self._local.luma = np.empty((3, h, w))
        out, term = buffers[slot], buffers[2]
        np.multiply(image[..., 0], Y_WEIGHTS[0] / 255, out=out)
        for channel in (1, 2):
            np.multiply(image[..., channel], Y_WEIGHTS[channel] / 255, out=term)
            np.add(out, term, out=out)
        np.add(out, Y_OFFSET * self.peak / 255, out=out)
        return out[None]

    def _batch_torch(self, restored: Frames, reference: Frames) -> Scores:
        import torch

        from vrestore.metrics.frames import crop_border, rgb_to_y
        from vrestore.metrics.psnr import psnr
        from vrestore.metrics.ssim import ssim_torch

        def load(images: Frames) -> torch.Tensor:
            stacked = np.stack([to_peak_scale(im, self.peak) for im in images])
            if stacked.dtype == np.uint16:
                stacked = stacked.astype(np.int32)  # torch's uint16 support is limited
            x = torch.from_numpy(stacked).to(self.device).permute(0, 3, 1, 2).double()
            if self.y_channel:
                x = rgb_to_y(x, self.peak)
            return crop_border(x, self.crop)

        x, y = load(restored), load(reference)
        check_size(*x.shape[-2:])
        return psnr(x, y, self.peak).tolist(), ssim_torch(x, y, self.peak).tolist()
