"""vrestore.filters.motion_average: the motion-compensated temporal average that pgdenet.mc restores from."""

from __future__ import annotations

import numpy as np
import pytest

from vrestore.filters.motion_average import RADIUS, motion_average, motion_average_images


def _panning_clip(frames: int, seed: int = 0, noise: float = 8.0, step: int = 2) -> tuple[list, list]:
    """A smooth textured scene panning ``step`` px per frame (uint8), and a copy with Gaussian noise."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:40, 0:112].astype(np.float64)
    clean = []
    for t in range(frames):
        u = xs + step * t
        image = np.stack([128 + 60 * np.sin(u / 7) * np.cos(ys / 9), 128 + 50 * np.cos(u / 11),
                          128 + 40 * np.sin((u + ys) / 13)], axis=2)
        clean.append(image[:, 8:72].round().astype(np.uint8))
    noisy = [np.clip(c + rng.normal(0, noise, c.shape), 0, 255).round().astype(np.uint8) for c in clean]
    return clean, noisy


def _psnr(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    mse = np.mean([np.mean((x.astype(np.float64) - y) ** 2) for x, y in zip(a, b, strict=True)])
    return float(10 * np.log10(255.0**2 / mse))


def test_it_denoises_a_moving_clip_and_beats_the_unaligned_mean():
    clean, noisy = _panning_clip(9)
    averaged = motion_average_images(noisy)
    plain = [np.mean(noisy[max(0, t - RADIUS): t + RADIUS + 1], axis=0).round().astype(np.uint8)
             for t in range(len(noisy))]
    assert _psnr(averaged, clean) > _psnr(noisy, clean) + 2.0
    assert _psnr(averaged, clean) > _psnr(plain, clean) + 1.0


@pytest.mark.parametrize("seed", range(3))
def test_smoothing_the_error_averages_noisy_aligned_frames_more(seed):
    """The absolute difference of two noisy but aligned frames has a positive mean; smoothing the signed
    difference first takes most of it away, so strong noise is averaged more (and better)."""
    clean, noisy = _panning_clip(9, seed=seed, noise=20.0)
    frames = [f.astype(np.float32) / 255 for f in noisy]
    smoothed = [(f * 255).round() for f in motion_average(frames)]
    plain = [(f * 255).round() for f in motion_average(frames, error_blur=0)]
    assert _psnr(smoothed, clean) > _psnr(plain, clean) + 0.5


def test_identical_frames_come_back_unchanged():
    _, noisy = _panning_clip(1)
    frames = [noisy[0]] * 5
    for out in motion_average_images(frames):
        assert np.abs(out.astype(int) - noisy[0]).max() <= 1


@pytest.mark.parametrize("seed", range(4))
def test_a_frame_is_exact_given_radius_frames_each_side(seed):
    """What the engine relies on: a window holding RADIUS frames each side of frame t gives the average of the
    whole video for t (the flow of a pair depends on that pair alone)."""
    rng = np.random.default_rng(seed)
    _, noisy = _panning_clip(12, seed=seed, step=int(rng.integers(0, 4)))
    frames = [f.astype(np.float32) / 255 for f in noisy]
    whole = motion_average(frames)
    t = int(rng.integers(0, len(frames)))
    first = max(0, t - RADIUS - int(rng.integers(0, 2)))
    stop = min(len(frames), t + RADIUS + 1 + int(rng.integers(0, 2)))
    (part,) = motion_average(frames[first:stop], [t - first])
    np.testing.assert_array_equal(part, whole[t])


def test_it_keeps_the_depth_and_shape_of_sixteen_bit_images():
    _, noisy = _panning_clip(4)
    deep = [f.astype(np.uint16) * 257 for f in noisy]
    out = motion_average_images(deep)
    assert all(o.dtype == np.uint16 and o.shape == f.shape for o, f in zip(out, deep, strict=True))
    eight = motion_average_images(noisy)
    assert np.abs(np.stack(out).astype(int) / 257 - np.stack(eight)).max() <= 1.5
