"""Weather: rain streaks, snow and haze, each with a ``strength`` in [0, 1] (0 = no effect).

Rain and snow are particle fields drawn once from ``seed`` and moved with the frame number ``t`` (rain
falls fast along ``angle``, snow drifts slowly), so they move coherently through a video. Particles are
kept when their own uniform draw is below ``strength``: a stronger setting keeps a superset of the
particles and makes them more opaque, so the change grows monotonically with strength. Layers are
screen-blended (``1 - (1-x)(1-layer)``), which only brightens, like real rain and snow.

Haze follows the atmospheric scattering model ``I = J t + A (1 - t)`` with transmission
``t = exp(-beta d)``, ``beta = 3 * strength`` and a depth proxy ``d`` (far at the top of the frame,
near at the bottom, with a smooth random variation from ``seed``), since frames carry no depth.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np
import torch

from vrestore.degrade._tensor import from_float_hwc, to_float_hwc

_RAIN_DENSITY = 1 / 120  # drops per pixel at strength 1
_SNOW_DENSITY = 1 / 250  # flakes per pixel at strength 1


def _frames(x: torch.Tensor) -> list[torch.Tensor]:
    if x.ndim == 3:
        return [x]
    if x.ndim == 4:
        return list(x)
    raise ValueError(f"expected a (C,H,W) or (T,C,H,W) tensor, got shape {tuple(x.shape)}")


def _restack(x: torch.Tensor, frames: list[torch.Tensor]) -> torch.Tensor:
    return frames[0] if x.ndim == 3 else torch.stack(frames)


def _screen(frame: torch.Tensor, layer: np.ndarray) -> torch.Tensor:
    """Screen-blend a (H,W) layer in [0,1] onto a (C,H,W) frame."""
    img = to_float_hwc(frame)
    out = 1.0 - (1.0 - img) * (1.0 - np.clip(layer, 0, 1)[:, :, None])
    return from_float_hwc(out.astype(np.float32), frame)


def _splat(h: int, w: int, ys: np.ndarray, xs: np.ndarray, values: np.ndarray) -> np.ndarray:
    canvas = np.zeros((h, w), np.float32)
    np.add.at(canvas, (ys.astype(np.int64) % h, xs.astype(np.int64) % w), values.astype(np.float32))
    return canvas


def _line_kernel(length: float, angle_deg: float) -> np.ndarray:
    """A streak of ``length`` pixels tilted ``angle_deg`` from vertical; every tap weighs 1."""
    half = max(1, int(round(length / 2)))
    size = 2 * half + 1
    k = np.zeros((size, size), np.float32)
    theta = math.radians(angle_deg)
    for step in np.linspace(-half, half, 4 * half + 1):
        k[int(round(half + step * math.cos(theta))), int(round(half + step * math.sin(theta)))] = 1.0
    return k


def _falling(x: torch.Tensor, strength: float, seed: int, t: int,
             layer: Callable[[int, int, np.random.Generator, int], np.ndarray]) -> torch.Tensor:
    """Screen a particle layer over every frame; ``layer(h, w, rng, step)`` draws it for frame ``t + offset``.

    Every frame re-seeds the same generator, so particles keep their identity from frame to frame and only
    their positions move with ``step``.
    """
    if strength <= 0:
        return x.clone()
    out = []
    for offset, frame in enumerate(_frames(x)):
        h, w = frame.shape[-2:]
        out.append(_screen(frame, layer(h, w, np.random.default_rng(seed), t + offset)))
    return _restack(x, out)


def rain(x: torch.Tensor, strength: float, seed: int, angle: float, length: float, t: int = 0) -> torch.Tensor:
    """Rain streaks of about ``length`` (fraction of the frame height) at ``angle`` degrees, at frame ``t``."""

    def layer(h: int, w: int, rng: np.random.Generator, step: int) -> np.ndarray:
        n = max(1, int(h * w * _RAIN_DENSITY))
        y0, x0, keep_u, bright = rng.random(n) * h, rng.random(n) * w, rng.random(n), rng.uniform(0.5, 1.0, n)
        keep = keep_u < strength
        fall = 0.37 * h  # pixels per frame
        ys = y0 + step * fall
        xs = x0 + step * fall * math.tan(math.radians(angle))
        canvas = _splat(h, w, ys[keep], xs[keep], bright[keep])
        streaks = cv2.filter2D(canvas, -1, _line_kernel(max(2.0, length * h), angle), borderType=cv2.BORDER_CONSTANT)
        streaks = cv2.GaussianBlur(np.clip(streaks, 0, 1), (3, 3), 0.6)
        return streaks * (0.3 + 0.5 * strength) + 0.08 * strength  # streaks plus a faint veil

    return _falling(x, strength, seed, t, layer)


def snow(x: torch.Tensor, strength: float, seed: int, angle: float, t: int = 0) -> torch.Tensor:
    """Snow: small and large soft flakes drifting down at ``angle`` degrees, at frame ``t``."""

    def layer(h: int, w: int, rng: np.random.Generator, step: int) -> np.ndarray:
        n = max(1, int(h * w * _SNOW_DENSITY))
        y0, x0, keep_u = rng.random(n) * h, rng.random(n) * w, rng.random(n)
        large = rng.random(n) < 0.25
        speed = rng.uniform(0.004, 0.012, n) * h * np.where(large, 1.5, 1.0)
        phase = rng.random(n) * 2 * math.pi
        keep = keep_u < strength
        ys = y0 + step * speed
        xs = x0 + step * speed * math.tan(math.radians(angle)) + 1.5 * np.sin(phase + 0.2 * step)
        flakes = np.zeros((h, w), np.float32)
        for sel, sigma in ((keep & ~large, 0.7), (keep & large, 1.6)):
            canvas = _splat(h, w, ys[sel], xs[sel], np.ones(int(sel.sum())))
            size = 2 * int(math.ceil(3 * sigma)) + 1
            blurred = cv2.GaussianBlur(canvas, (size, size), sigma, borderType=cv2.BORDER_CONSTANT)
            flakes = np.maximum(flakes, np.clip(blurred * (2 * math.pi * sigma**2), 0, 1))
        return flakes * (0.5 + 0.5 * strength) + 0.12 * strength

    return _falling(x, strength, seed, t, layer)


def depth_proxy(h: int, w: int, seed: int) -> np.ndarray:
    """A (H,W) pseudo-depth in [0,1]: 1 at the top (far), 0 at the bottom (near), smoothly perturbed."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(1.0, 0.0, h, dtype=np.float32)[:, None] * np.ones((1, w), np.float32)
    coarse = rng.random((4, 6)).astype(np.float32)
    smooth = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(0.75 * ramp + 0.25 * smooth, 0, 1)


def haze(x: torch.Tensor, strength: float, seed: int, airlight: float) -> torch.Tensor:
    """Haze: ``J t + A (1 - t)``, ``t = exp(-3 strength (0.2 + 0.8 d))`` with the depth proxy ``d``."""
    if strength <= 0:
        return x.clone()
    out = []
    for frame in _frames(x):
        h, w = frame.shape[-2:]
        depth = depth_proxy(h, w, seed)
        trans = np.exp(-3.0 * strength * (0.2 + 0.8 * depth))[:, :, None].astype(np.float32)
        img = to_float_hwc(frame)
        out.append(from_float_hwc(img * trans + airlight * (1.0 - trans), frame))
    return _restack(x, out)
