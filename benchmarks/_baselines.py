"""Classical restoration baselines for ``benchmarks/quality.py``: each restores a whole clip with one parameter.

- OpenCV, frame by frame: non-local means (``fastNlMeansDenoisingColored``), median, Gaussian blur.
- FFmpeg through PyAV's filter graphs, on planar RGB (``gbrp``, a lossless repacking of the RGB frames):
  ``nlmeans`` (spatial), ``atadenoise`` (adaptive temporal averaging) and ``fftdnoiz`` (3D FFT denoising with
  one frame each side).
- A motion-compensated temporal average (``vrestore.filters.motion_average``, which ``pgdenet.mc`` runs
  before its network): every neighbour within ``RADIUS`` frames is warped onto the frame by OpenCV's DIS
  optical flow and averaged with a weight exp(-e^2 / 2 sigma^2), e being its local warping error (a 5x5 box
  mean of the absolute difference to the frame), so that badly aligned pixels count little: as issue 24
  describes it, and again with the error of the difference smoothed first (``ERROR_BLUR``), which is what
  ``pgdenet.mc`` runs: a classical method too, so it is a baseline the model must beat.

Every baseline is tuned by :mod:`benchmarks.quality` over its listed parameter values for the best mean PSNR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import av
import cv2
import numpy as np

from vrestore.filters.motion_average import ERROR_BLUR, RADIUS, aligned_neighbours, weighted_average

Clip = list[np.ndarray]  # uint8 RGB frames (H, W, 3)


@dataclass(frozen=True)
class Baseline:
    """A classical method: ``apply(frames, value)`` for each of ``values`` of its parameter ``label``."""

    apply: Callable[[Clip, float], Clip]
    values: tuple[float, ...]
    label: str


def per_frame(filter_: Callable[[np.ndarray, float], np.ndarray]) -> Callable[[Clip, float], Clip]:
    """A clip filter that applies an image filter to every frame."""
    return lambda frames, value: [filter_(im, value) for im in frames]


def ffmpeg_filter(name: str, options: str) -> Callable[[Clip, float], Clip]:
    """A clip filter running FFmpeg's ``name`` with ``options`` (``{}`` stands for the tuned value)."""

    def apply(frames: Clip, value: float) -> Clip:
        h, w = frames[0].shape[:2]
        graph = av.filter.Graph()
        nodes = [graph.add_buffer(width=w, height=h, format="rgb24", time_base=Fraction(1, 25)),
                 graph.add("format", "gbrp"), graph.add(name, options.format(value)),
                 graph.add("format", "rgb24"), graph.add("buffersink")]
        graph.link_nodes(*nodes).configure()
        out: Clip = []
        for index, image in enumerate([*frames, None]):
            if image is None:
                graph.vpush(None)  # flush: temporal filters hold frames back
            else:
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                frame.pts, frame.time_base = index, Fraction(1, 25)
                graph.vpush(frame)
            while True:
                try:
                    out.append(graph.vpull().to_ndarray(format="rgb24"))
                except (av.BlockingIOError, av.EOFError):
                    break
        if len(out) != len(frames):
            raise RuntimeError(f"FFmpeg {name} returned {len(out)} frames for {len(frames)}")
        return out

    return apply


class MotionCompensatedAverage:
    """The motion-compensated temporal average of ``vrestore.filters.motion_average`` with a tunable sigma;
    caches the aligned neighbours of the last clip it saw (the flows do not depend on sigma)."""

    def __init__(self, radius: int = RADIUS, error_blur: float = ERROR_BLUR) -> None:
        self.radius = radius
        self.error_blur = error_blur
        self._frames: Clip | None = None  # the clip aligned last (held, so that its identity stays unique)
        self._floats: list[np.ndarray] = []
        self._aligned: list[list[tuple[np.ndarray, np.ndarray]]] = []

    def __call__(self, frames: Clip, sigma: float) -> Clip:
        if self._frames is not frames:
            self._floats = [f.astype(np.float32) / 255.0 for f in frames]
            self._aligned = [list(aligned_neighbours(self._floats, t, self.radius, error_blur=self.error_blur))
                             for t in range(len(frames))]
            self._frames = frames
        return [np.clip(weighted_average(f, aligned, sigma) * 255.0 + 0.5, 0, 255).astype(np.uint8)
                for f, aligned in zip(self._floats, self._aligned, strict=True)]


BASELINES: dict[str, Baseline] = {
    "NLM (OpenCV)": Baseline(per_frame(lambda im, h: cv2.fastNlMeansDenoisingColored(im, None, h, h, 7, 21)),
                             (3, 5, 7, 10, 14, 20), "h"),
    "median": Baseline(per_frame(lambda im, k: cv2.medianBlur(im, int(k))), (3, 5, 7), "size"),
    "Gaussian blur": Baseline(per_frame(lambda im, s: cv2.GaussianBlur(im, (0, 0), s)),
                              (0.5, 0.8, 1.2, 1.8, 2.5), "sigma"),
    "nlmeans (FFmpeg)": Baseline(ffmpeg_filter("nlmeans", "s={}"), (4, 8, 12, 18), "s"),
    "atadenoise (FFmpeg)": Baseline(ffmpeg_filter("atadenoise", "0a={0}:1a={0}:2a={0}:0b={0}:1b={0}:2b={0}:s=9"),
                                    (0.05, 0.1, 0.2, 0.3), "thresholds"),
    "fftdnoiz (FFmpeg)": Baseline(ffmpeg_filter("fftdnoiz", "sigma={}:prev=1:next=1"), (4, 8, 12, 18, 26), "sigma"),
    "MC temporal average": Baseline(MotionCompensatedAverage(error_blur=0), (8, 16, 32, 64), "sigma"),
    "MC average, smoothed error": Baseline(MotionCompensatedAverage(), (6, 8, 11, 16), "sigma"),
}
