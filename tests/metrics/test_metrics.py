"""PSNR/SSIM against the published formulas (written here independently) and against scikit-image.

Bounds from the issue: < 1e-4 dB PSNR and < 1e-5 SSIM, on random and real frames, 8-bit and 10-bit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from vrestore.metrics import FrameScorer, crop_border, rgb_to_y
from vrestore.metrics.cpu import CpuSsim
from vrestore.metrics.psnr import psnr
from vrestore.metrics.ssim import ssim, ssim_torch

PSNR_TOL = 1e-4
SSIM_TOL = 1e-5


def pair(seed: int, h: int = 40, w: int = 56, peak: int = 255, sigma: float | None = None) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, peak + 1, (h, w, 3))
    b = np.clip(a + rng.normal(0, sigma or peak / 20, a.shape).round(), 0, peak)
    dtype = np.uint8 if peak == 255 else np.uint16
    return a.astype(dtype), b.astype(dtype)


def as_decoded(image: np.ndarray, peak: int) -> np.ndarray:
    """Samples on 0..peak as a reader hands them out: uint8, or uint16 widened to full scale (10 -> 16 bits)."""
    if peak == 255:
        return image
    v = image.astype(np.int64)
    return ((v << 6) | (v >> 4)).astype(np.uint16)


def batch(*images: np.ndarray) -> torch.Tensor:
    """(H,W,C) arrays -> (N,C,H,W) float64."""
    return torch.from_numpy(np.stack([np.asarray(i, dtype=np.float64) for i in images])).permute(0, 3, 1, 2)


def psnr_by_formula(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(peak**2 / mse)


def ssim_by_formula(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    """Wang et al. 2004, eq. 13, with an 11x11 sigma-1.5 Gaussian window, valid region, per channel then averaged."""
    coords = np.arange(11) - 5
    g = np.exp(-(coords**2) / (2 * 1.5**2))
    window = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    scores = []
    for ch in range(a.shape[2]):
        x, y = a[..., ch].astype(np.float64), b[..., ch].astype(np.float64)
        h, w = x.shape
        values = []
        for i in range(h - 10):
            for j in range(w - 10):
                px, py = x[i : i + 11, j : j + 11], y[i : i + 11, j : j + 11]
                mx, my = (window * px).sum(), (window * py).sum()
                vx, vy = (window * (px - mx) ** 2).sum(), (window * (py - my) ** 2).sum()
                cxy = (window * (px - mx) * (py - my)).sum()
                values.append(((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx**2 + my**2 + c1) * (vx + vy + c2)))
        scores.append(np.mean(values))
    return float(np.mean(scores))


def skimage_ssim(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    """scikit-image with the conventions that coincide with BasicSR's."""
    return structural_similarity(
        np.asarray(a, np.float64), np.asarray(b, np.float64), gaussian_weights=True, sigma=1.5,
        use_sample_covariance=False, data_range=peak, channel_axis=2,
    )


def y_by_hand(rgb: np.ndarray, peak: float) -> np.ndarray:
    """BasicSR's rgb2ycbcr(y_only=True) written out: Y = 16 + (65.481 R + 128.553 G + 24.966 B) on [0,1] RGB."""
    unit = rgb.astype(np.float64) / peak
    y = 16 + 65.481 * unit[..., 0] + 128.553 * unit[..., 1] + 24.966 * unit[..., 2]
    return (y * peak / 255)[..., None]


# ------------------------------------------------------------------------------------------ PSNR


@pytest.mark.parametrize("peak", [255, 1023])
def test_psnr_matches_formula_and_skimage(peak):
    a, b = pair(1, peak=peak)
    got = psnr(batch(a), batch(b), peak).item()
    assert got == pytest.approx(psnr_by_formula(a, b, peak), abs=1e-9)
    assert got == pytest.approx(peak_signal_noise_ratio(a, b, data_range=peak), abs=PSNR_TOL)


def test_identical_frames_give_inf_psnr_and_ssim_one():
    a, _ = pair(2)
    assert psnr(batch(a), batch(a), 255).item() == math.inf
    assert ssim(batch(a), batch(a), 255).item() == pytest.approx(1.0, abs=1e-12)
    with FrameScorer(255) as scorer:
        p, s = scorer([a], [a])
    assert p == [math.inf] and s[0] == pytest.approx(1.0, abs=1e-12)


# ------------------------------------------------------------------------------------------ SSIM


@pytest.mark.parametrize("peak", [255, 1023])
def test_ssim_matches_the_published_formula_and_skimage(peak):
    a, b = pair(3, h=24, w=30, peak=peak)
    expected = ssim_by_formula(a, b, peak)
    assert expected == pytest.approx(skimage_ssim(a, b, peak), abs=1e-12)  # the two references agree
    assert ssim(batch(a), batch(b), peak).item() == pytest.approx(expected, abs=SSIM_TOL)  # CPU path
    assert ssim_torch(batch(a), batch(b), peak).item() == pytest.approx(expected, abs=1e-12)  # float64 torch path


@pytest.mark.parametrize("peak", [255, 1023])
def test_frame_scorer_matches_skimage_on_random_frames(peak):
    pairs = [pair(seed, h=50, w=70, peak=peak) for seed in range(3)]
    with FrameScorer(peak, workers=2) as scorer:
        restored, reference = [as_decoded(p[0], peak) for p in pairs], [as_decoded(p[1], peak) for p in pairs]
        values_psnr, values_ssim = scorer(restored, reference)
    for (a, b), p, s in zip(pairs, values_psnr, values_ssim, strict=True):
        assert p == pytest.approx(peak_signal_noise_ratio(a, b, data_range=peak), abs=PSNR_TOL)
        assert s == pytest.approx(skimage_ssim(a, b, peak), abs=SSIM_TOL)


def test_batches_score_each_pair_and_paths_agree():
    pairs = [pair(s) for s in range(3)]
    a, b = batch(*[p[0] for p in pairs]), batch(*[p[1] for p in pairs])
    assert psnr(a, b, 255).tolist() == pytest.approx([psnr_by_formula(x, y, 255) for x, y in pairs], abs=1e-9)
    assert ssim(a, b, 255).tolist() == pytest.approx(ssim_torch(a, b, 255).tolist(), abs=1e-6)
    with FrameScorer(255, workers=1) as one, FrameScorer(255, workers=3) as three:
        assert one([p[0] for p in pairs], [p[1] for p in pairs]) == three([p[0] for p in pairs], [p[1] for p in pairs])
    torch_path = FrameScorer(255)._batch_torch([p[0] for p in pairs], [p[1] for p in pairs])
    cpu_path = FrameScorer(255)([p[0] for p in pairs], [p[1] for p in pairs])
    assert torch_path[0] == pytest.approx(cpu_path[0], abs=1e-9)
    assert torch_path[1] == pytest.approx(cpu_path[1], abs=1e-6)


@pytest.mark.parametrize("rows", [1, 7, 64])
def test_cpu_strips_do_not_change_the_result(rows):
    a, b = pair(4, h=45, w=33)
    x, y = a.transpose(2, 0, 1), b.transpose(2, 0, 1)
    sse, value = CpuSsim(3, 45, 33, strip_rows=rows)(x, y, 255)
    whole_sse, whole = CpuSsim(3, 45, 33, strip_rows=1000)(x, y, 255)
    assert sse == whole_sse == float(((a.astype(np.int64) - b) ** 2).sum())
    assert value == pytest.approx(whole, abs=1e-12)


@pytest.mark.parametrize("level", [0, 3, 128, 250, 255])
def test_cpu_ssim_is_accurate_on_flat_low_noise_images(level):
    """Worst cases for float32 filtering: tiny variances on flat areas far from the data's mean."""
    rng = np.random.default_rng(level)
    a = np.full((64, 80, 3), level, dtype=np.int64)
    a[20:40, 30:60] = 255 - level
    b = np.clip(a + rng.normal(0, 0.6, a.shape).round(), 0, 255)
    assert ssim(batch(a), batch(b), 255).item() == pytest.approx(skimage_ssim(a, b, 255), abs=SSIM_TOL)


@pytest.mark.parametrize("sigma", [0.3, 3, 30])
def test_cpu_ssim_is_accurate_on_hard_edges_and_anticorrelated_pairs(sigma):
    rng = np.random.default_rng(7)
    a = np.zeros((60, 90, 3))
    a[:, 45:] = 255
    b = np.clip(a + rng.normal(0, sigma, a.shape).round(), 0, 255)
    for other in (b, 255 - b):
        assert ssim(batch(a), batch(other), 255).item() == pytest.approx(skimage_ssim(a, other, 255), abs=SSIM_TOL)


# ------------------------------------------------------------------------------ crop and Y channel


@pytest.mark.parametrize("peak", [255, 1023])
def test_crop_border_and_y_channel_against_hand_computation(peak):
    a, b = pair(5, h=48, w=60, peak=peak)
    border = 4
    ya, yb = y_by_hand(a, peak)[border:-border, border:-border], y_by_hand(b, peak)[border:-border, border:-border]
    expected_psnr = 10 * math.log10(peak**2 / np.mean((ya - yb) ** 2))
    expected_ssim = skimage_ssim(ya, yb, peak)
    with FrameScorer(peak, y_channel=True, crop=border) as scorer:
        (got_psnr,), (got_ssim,) = scorer([as_decoded(a, peak)], [as_decoded(b, peak)])
    assert got_psnr == pytest.approx(expected_psnr, abs=PSNR_TOL)
    assert got_ssim == pytest.approx(expected_ssim, abs=SSIM_TOL)
    # the tensor building blocks give the same
    ta, tb = crop_border(rgb_to_y(batch(a), peak), border), crop_border(rgb_to_y(batch(b), peak), border)
    assert psnr(ta, tb, peak).item() == pytest.approx(expected_psnr, abs=1e-9)
    assert ssim(ta, tb, peak).item() == pytest.approx(expected_ssim, abs=SSIM_TOL)


def test_rgb_crop_border_by_hand():
    a, b = pair(6, h=40, w=50)
    with FrameScorer(255, crop=3) as scorer:
        (got_psnr,), (got_ssim,) = scorer([a], [b])
    assert got_psnr == pytest.approx(psnr_by_formula(a[3:-3, 3:-3], b[3:-3, 3:-3], 255), abs=1e-9)
    assert got_ssim == pytest.approx(skimage_ssim(a[3:-3, 3:-3], b[3:-3, 3:-3], 255), abs=SSIM_TOL)


def test_images_smaller_than_the_window_are_refused():
    a, b = pair(8, h=10, w=30)
    with pytest.raises(ValueError, match="at least 11x11"):
        ssim(batch(a), batch(b), 255)


# ------------------------------------------------------------------------------------ 10-bit scale


def test_sixteen_bit_samples_are_rounded_to_the_ten_bit_scale():
    from vrestore.metrics.score import to_peak_scale

    full = np.arange(65536, dtype=np.uint16).reshape(256, 256, 1)
    got = to_peak_scale(full, 1023).astype(np.int64).ravel()
    expected = (np.arange(65536, dtype=np.int64) * 2046 + 65535) // 131070  # round(v * 1023 / 65535), exact
    assert np.array_equal(got, expected)
    codes = np.arange(1024, dtype=np.int64).reshape(32, 32, 1)
    assert np.array_equal(to_peak_scale(as_decoded(codes, 1023), 1023), codes)


# ------------------------------------------------------------------------------------- real frames


def davis_frames(shared_data, count: int) -> list[np.ndarray]:
    import cv2

    files = sorted((shared_data / "test" / "davis" / "blackswan").glob("*.jpg"))[:count]
    return [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in files]


def test_real_frames_match_skimage(shared_data):
    frames = davis_frames(shared_data, 3)
    rng = np.random.default_rng(0)
    noisy = np.clip(frames[0] + rng.normal(0, 2, frames[0].shape).round(), 0, 255).astype(np.uint8)
    restored, reference = [frames[1], noisy], [frames[0], frames[0]]
    with FrameScorer(255) as scorer:
        values_psnr, values_ssim = scorer(restored, reference)
    for a, b, p, s in zip(restored, reference, values_psnr, values_ssim, strict=True):
        assert p == pytest.approx(peak_signal_noise_ratio(b, a, data_range=255), abs=PSNR_TOL)
        assert s == pytest.approx(skimage_ssim(a, b, 255), abs=SSIM_TOL)
    with FrameScorer(255, y_channel=True, crop=4) as scorer:
        (p,), (s,) = scorer([frames[1]], [frames[0]])
    ya, yb = y_by_hand(frames[1], 255)[4:-4, 4:-4], y_by_hand(frames[0], 255)[4:-4, 4:-4]
    assert p == pytest.approx(psnr_by_formula(ya, yb, 255), abs=PSNR_TOL)
    assert s == pytest.approx(skimage_ssim(ya, yb, 255), abs=SSIM_TOL)


def sparks_planes(shared_data, name: str, frame: int = 0) -> np.ndarray:
    """One frame of the real 10-bit pair (raw yuv420p10le, 480x270) as (H,W,3) Y/U/V samples (chroma repeated)."""
    w, h = 480, 270
    size = w * h + 2 * (w // 2) * (h // 2)
    raw = np.fromfile(shared_data / "pairs" / "sparks-10bit" / name, dtype="<u2", count=size, offset=frame * size * 2)
    y = raw[: w * h].reshape(h, w)
    u = raw[w * h : w * h + (w // 2) * (h // 2)].reshape(h // 2, w // 2).repeat(2, 0).repeat(2, 1)
    v = raw[w * h + (w // 2) * (h // 2) :].reshape(h // 2, w // 2).repeat(2, 0).repeat(2, 1)
    return np.stack([y, u, v], axis=-1)


def test_real_ten_bit_frames_match_skimage(shared_data):
    ref = sparks_planes(shared_data, "sparks_ref_480x270.yuv42010le.yuv", frame=2)
    dis = sparks_planes(shared_data, "sparks_dis_480x270.yuv42010le.yuv", frame=2)
    assert ref.max() <= 1023 and ref.max() > 255  # really 10-bit data
    t_dis, t_ref = batch(dis), batch(ref)
    assert psnr(t_dis, t_ref, 1023).item() == pytest.approx(
        peak_signal_noise_ratio(ref, dis, data_range=1023), abs=PSNR_TOL
    )
    assert ssim(t_dis, t_ref, 1023).item() == pytest.approx(skimage_ssim(dis, ref, 1023), abs=SSIM_TOL)
    # the luma plane alone: its PSNR is the ~48.8 dB the data set documents
    luma = psnr(t_dis[:, :1], t_ref[:, :1], 1023).item()
    assert luma == pytest.approx(peak_signal_noise_ratio(ref[..., 0], dis[..., 0], data_range=1023), abs=PSNR_TOL)
    assert 45 < luma < 52


@pytest.mark.gpu
def test_cuda_path_equals_cpu_path():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    pairs = [pair(seed, h=72, w=96) for seed in range(4)]
    restored, reference = [p[0] for p in pairs], [p[1] for p in pairs]
    for options in ({}, {"y_channel": True, "crop": 4}):
        with FrameScorer(255, **options) as cpu, FrameScorer(255, device="cuda", **options) as cuda:
            cpu_psnr, cpu_ssim = cpu(restored, reference)
            cuda_psnr, cuda_ssim = cuda(restored, reference)
        assert cuda_psnr == pytest.approx(cpu_psnr, abs=1e-6)
        assert cuda_ssim == pytest.approx(cpu_ssim, abs=1e-6)
