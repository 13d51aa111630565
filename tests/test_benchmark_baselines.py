"""benchmarks/_baselines.py: the classical methods that benchmarks/quality.py compares the model with."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks._baselines import BASELINES, MotionCompensatedAverage


def _psnr(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    mse = np.mean([np.mean((x.astype(np.float64) - y) ** 2) for x, y in zip(a, b, strict=True)])
    return float(10 * np.log10(255.0**2 / mse))


def _moving_noisy_clip(frames: int = 7, seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """A smooth textured scene panning 2 px per frame, and a copy with Gaussian noise (sigma 20)."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:48, 0:120].astype(np.float64)
    clean = []
    for t in range(frames):
        u = xs + 2 * t
        image = np.stack([128 + 60 * np.sin(u / 7) * np.cos(ys / 9), 128 + 50 * np.cos(u / 11),
                          128 + 40 * np.sin((u + ys) / 13)], axis=2)
        clean.append(image[:, 8:72].round().astype(np.uint8))
    noisy = [np.clip(c + rng.normal(0, 20, c.shape), 0, 255).astype(np.uint8) for c in clean]
    return clean, noisy


@pytest.mark.parametrize("name", sorted(BASELINES))
def test_every_baseline_returns_one_rgb_frame_per_frame_and_its_best_value_denoises(name):
    clean, noisy = _moving_noisy_clip()
    baseline = BASELINES[name]
    best = -np.inf
    for value in baseline.values:
        out = baseline.apply(noisy, value)
        assert len(out) == len(noisy)
        assert all(o.shape == n.shape and o.dtype == np.uint8 for o, n in zip(out, noisy, strict=True))
        best = max(best, _psnr(out, clean))
    assert best > _psnr(noisy, clean) + 0.5


def test_the_motion_compensated_average_beats_the_same_average_without_motion():
    clean, noisy = _moving_noisy_clip()
    aligned = MotionCompensatedAverage()(noisy, 32)
    # Without motion compensation: the same weights on unwarped neighbours, i.e. a plain temporal mean.
    plain = [np.mean(noisy[max(0, t - 3): t + 4], axis=0).round().astype(np.uint8) for t in range(len(noisy))]
    assert _psnr(aligned, clean) > _psnr(plain, clean) + 1.0
