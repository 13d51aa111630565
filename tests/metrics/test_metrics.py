"""PSNR/SSIM against the published formulas (written here independently) and scikit-image."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from vrestore.metrics import crop_border, psnr, rgb_to_y, ssim


def pair(seed: int, h: int = 40, w: int = 56, peak: int = 255) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, peak + 1, (h, w, 3))
    b = np.clip(a + rng.normal(0, peak / 20, a.shape).round(), 0, peak).astype(np.int64)
    return a, b


def batch(*images: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).double()


def psnr_by_formula(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return math.inf if mse == 0 else 10 * math.log10(peak**2 / mse)


def ssim_by_formula(a: np.ndarray, b: np.ndarray, peak: float) -> float:
    """Wang et al. 2004 with an 11x11 sigma-1.5 Gaussian, valid region, per channel then averaged."""
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


@pytest.mark.parametrize("peak", [255, 1023])
def test_psnr_matches_formula_and_skimage(peak):
    a, b = pair(1, peak=peak)
    got = psnr(batch(a), batch(b), peak).item()
    assert got == pytest.approx(psnr_by_formula(a, b, peak), abs=1e-6)
    assert got == pytest.approx(peak_signal_noise_ratio(a, b, data_range=peak), abs=1e-4)


def test_psnr_of_identical_frames_is_inf():
    a, _ = pair(2)
    assert psnr(batch(a), batch(a), 255).item() == math.inf


@pytest.mark.parametrize("peak", [255, 1023])
def test_ssim_matches_formula_and_skimage(peak):
    a, b = pair(3, h=24, w=30, peak=peak)
    got = ssim(batch(a), batch(b), peak).item()
    assert got == pytest.approx(ssim_by_formula(a, b, peak), abs=1e-7)
    reference = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                      data_range=peak, channel_axis=2)
    assert got == pytest.approx(reference, abs=1e-5)


def test_ssim_of_identical_frames_is_one():
    a, _ = pair(4)
    assert ssim(batch(a), batch(a), 255).item() == pytest.approx(1.0, abs=1e-12)


def test_batches_score_each_pair():
    pairs = [pair(s) for s in range(3)]
    a = batch(*[p[0] for p in pairs])
    b = batch(*[p[1] for p in pairs])
    scores = psnr(a, b, 255)
    assert [round(v, 9) for v in scores.tolist()] == [round(psnr_by_formula(x, y, 255), 9) for x, y in pairs]


def test_crop_border_and_y_channel_by_hand():
    a, b = pair(5)
    border = 4
    ya = 16 + (65.481 * a[..., 0] + 128.553 * a[..., 1] + 24.966 * a[..., 2]) / 255
    yb = 16 + (65.481 * b[..., 0] + 128.553 * b[..., 1] + 24.966 * b[..., 2]) / 255
    ya, yb = ya[border:-border, border:-border], yb[border:-border, border:-border]
    expected = 10 * math.log10(255**2 / np.mean((ya - yb) ** 2))
    got_a = crop_border(rgb_to_y(batch(a), 255), border)
    got_b = crop_border(rgb_to_y(batch(b), 255), border)
    assert psnr(got_a, got_b, 255).item() == pytest.approx(expected, abs=1e-9)
    expected_ssim = structural_similarity(ya, yb, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                          data_range=255)
    assert ssim(got_a, got_b, 255).item() == pytest.approx(expected_ssim, abs=1e-5)


def test_real_frames_match_skimage(shared_data):
    import cv2

    folder = shared_data / "test" / "davis" / "blackswan"
    files = sorted(folder.glob("*.jpg"))[:2]
    a = cv2.cvtColor(cv2.imread(str(files[0])), cv2.COLOR_BGR2RGB)
    b = cv2.cvtColor(cv2.imread(str(files[1])), cv2.COLOR_BGR2RGB)
    assert psnr(batch(a), batch(b), 255).item() == pytest.approx(peak_signal_noise_ratio(a, b), abs=1e-4)
    reference = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                      data_range=255, channel_axis=2)
    assert ssim(batch(a), batch(b), 255).item() == pytest.approx(reference, abs=1e-5)


@pytest.mark.parametrize("level", [3, 128, 250])
def test_cpu_ssim_is_accurate_on_flat_low_noise_images(level):
    """The worst case for the CPU path's float32 filtering: tiny variances on a flat background."""
    rng = np.random.default_rng(level)
    a = np.full((64, 80, 3), level, dtype=np.int64)
    a[20:40, 30:60] = 255 - level
    b = np.clip(a + rng.normal(0, 0.6, a.shape).round(), 0, 255).astype(np.int64)
    reference = structural_similarity(a.astype(np.float64), b.astype(np.float64), gaussian_weights=True, sigma=1.5,
                                      use_sample_covariance=False, data_range=255, channel_axis=2)
    assert ssim(batch(a), batch(b), 255).item() == pytest.approx(reference, abs=1e-5)


def test_float64_torch_path_equals_cpu_path():
    from vrestore.metrics.ssim import K1, K2, _moments_torch, _ssim_cpu

    a, b = pair(6, h=30, w=34)
    mu_x, mu_y, var_x, var_y, cov = _moments_torch(batch(a), batch(b))
    c1, c2 = (K1 * 255) ** 2, (K2 * 255) ** 2
    exact = (((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))).mean()
    assert _ssim_cpu(batch(a), batch(b), 255).item() == pytest.approx(exact.item(), abs=1e-6)
