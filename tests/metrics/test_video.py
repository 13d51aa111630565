"""Scoring whole videos: pairing, counts, bit depth, identical inputs."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from vrestore.errors import InputError
from vrestore.metrics.video import EvalOptions, evaluate_pair


def noisy(images, seed, sigma):
    rng = np.random.default_rng(seed)
    peak = 65535 if images[0].dtype == np.uint16 else 255
    return [np.clip(im + rng.normal(0, sigma, im.shape).round(), 0, peak).astype(im.dtype) for im in images]


def test_identical_videos(make_clip):
    clip = make_clip("a.mkv", count=5, size=(48, 40), codec="ffv1", pix_fmt="bgr0")
    score = evaluate_pair(clip, clip)
    assert score.frames == 5 and score.identical_frames == 5
    assert math.isinf(score.mean_psnr) and score.mean_ssim == pytest.approx(1.0)


def test_lossless_pair_matches_skimage(make_clip, gradients):
    clean = gradients(6, 48, 40)
    dirty = noisy(clean, 0, 6)
    ref = make_clip("ref.mkv", clean, codec="ffv1", pix_fmt="bgr0")
    out = make_clip("out.mkv", dirty, codec="ffv1", pix_fmt="bgr0")
    score = evaluate_pair(out, ref, EvalOptions(batch=4))
    for a, b, p, s in zip(dirty, clean, score.psnr, score.ssim, strict=True):
        assert p == pytest.approx(peak_signal_noise_ratio(b, a, data_range=255), abs=1e-4)
        expected = structural_similarity(b, a, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                         data_range=255, channel_axis=2)
        assert s == pytest.approx(expected, abs=1e-5)


def test_frame_count_mismatch(make_clip):
    a = make_clip("a.mkv", count=5, codec="ffv1", pix_fmt="bgr0")
    b = make_clip("b.mkv", count=7, codec="ffv1", pix_fmt="bgr0")
    with pytest.raises(InputError, match="has 5 frames.* has 7"):
        evaluate_pair(a, b)
    score = evaluate_pair(a, b, EvalOptions(allow_length_mismatch=True))
    assert score.frames == 5


def test_size_mismatch(make_clip):
    a = make_clip("a.mkv", count=2, size=(48, 40), codec="ffv1", pix_fmt="bgr0")
    b = make_clip("b.mkv", count=2, size=(40, 40), codec="ffv1", pix_fmt="bgr0")
    with pytest.raises(InputError, match="48x40.*40x40"):
        evaluate_pair(a, b)


def test_align_by_pts(make_clip, gradients):
    images = gradients(6, 48, 40)
    tb = Fraction(1, 100)
    ref = make_clip("ref.mkv", images, codec="ffv1", pix_fmt="bgr0", pts=[0, 4, 8, 12, 16, 20], time_base=tb)
    out = make_clip("out.mkv", [images[i] for i in (0, 2, 3, 5)], codec="ffv1", pix_fmt="bgr0",
                    pts=[0, 8, 12, 20], time_base=tb)
    score = evaluate_pair(out, ref, EvalOptions(align="pts", allow_length_mismatch=True))
    assert score.frames == 4 and score.identical_frames == 4
    with pytest.raises(InputError, match="timestamps differ"):
        evaluate_pair(out, ref, EvalOptions(align="pts"))


def test_ten_bit_uses_peak_1023(make_clip, gradients):
    clean = gradients(3, 48, 40, deep=True)
    ref = make_clip("ref.mkv", clean, codec="ffv1", pix_fmt="yuv444p10le")
    out = make_clip("out.mkv", noisy(clean, 1, 1500), codec="ffv1", pix_fmt="yuv444p10le")
    score = evaluate_pair(out, ref)
    assert score.peak == 1023
    assert 20 < score.mean_psnr < 50


def test_y_channel_and_crop_border_match_hand_computation(make_clip, gradients):
    clean = gradients(3, 48, 40)
    dirty = noisy(clean, 2, 6)
    ref = make_clip("ref.mkv", clean, codec="ffv1", pix_fmt="bgr0")
    out = make_clip("out.mkv", dirty, codec="ffv1", pix_fmt="bgr0")
    score = evaluate_pair(out, ref, EvalOptions(y_channel=True, crop_border=3))

    def luma(image):
        rgb = image.astype(np.float64)
        y = 16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255
        return y[3:-3, 3:-3]

    for a, b, p, s in zip(dirty, clean, score.psnr, score.ssim, strict=True):
        ya, yb = luma(a), luma(b)
        assert p == pytest.approx(10 * math.log10(255**2 / np.mean((ya - yb) ** 2)), abs=1e-6)
        expected = structural_similarity(yb, ya, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                         data_range=255)
        assert s == pytest.approx(expected, abs=1e-5)
