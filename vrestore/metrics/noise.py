"""Noise level of a picture from the picture alone: the standard deviation of additive noise, 0-255 scale.

Method, on BT.601 luma in overlapping 8x8 patches:

- the noise variance is read from the eigenvalues of the patches' covariance with the rule of G. Chen, F. Zhu
  and P. A. Heng, "An Efficient Statistical Method for Image Noise Level Estimation", ICCV 2015: structure
  lives in the largest eigenvalues; dropping them one by one, the first tail whose mean equals its median
  (as many eigenvalues above the mean as below) is the noise-only set, and its mean the variance;
- only weakly textured patches take part, chosen as in X. Liu, M. Tanaka and M. Okutomi, "Single-Image Noise
  Level Estimation for Blind Denoising", IEEE TIP 2013: a patch whose gradient energy is below the 99th
  percentile of that of pure noise at the current estimate, iterated. Without this step a clean DAVIS frame
  that is texture everywhere read 9 levels;
- the patches are split into brightness bands of equal count, estimated band by band and the variances
  averaged, a coarse noise level function (Liu, Tanaka and Okutomi, "Practical Signal-Dependent Noise
  Parameter Estimation From a Single Noisy Image", IEEE TIP 2014): noise that grows with brightness
  (speckle, Poisson, real sensors) then reads about its root mean square level, not that of the darkest
  flat area (TUD's speckle frames read 2 instead of 6 before);
- constant patches (letterbox bars) and patches whose mean is within two noise levels of 0 or 255 (clipped
  noise is smaller) are left out.

Luma rather than RGB because decoded video is nearly always 4:2:0: its chroma has lost the fine noise, and an
RGB patch space then offers near-noiseless directions that pull the estimate towards zero (a JPEG of a
frame with noise 20 read 0.7). The result is converted to the level of independent per-channel RGB noise
(what denoisers such as RVRT take as sigma).

When it is accurate (``benchmarks/results/noise_estimate-2026-12-05.md``, ``tests/metrics/test_noise.py``):
white noise on pictures of at least about 64x64 with some smooth area. On every frame of the DAVIS test clips
with Gaussian noise 0 to 50 it is within 1.2 levels up to sigma 30 and reads 46-48 at 50 (slightly low: the
noise is clipped at 0 and 255); clean frames read 0.5-1.15. On TUD-degraded frames it is within 4 % of
the true Gaussian+Poisson level and 5-21 % low on speckle. It reads the noise *left* in a picture: an encoder
that coded the noise away (a clean-looking web video, strong JPEG) measures low, and noise made spatially
correlated (upscaled, filtered, coded into blotches) reads low too. Cost on this project's 2-core test machine:
about 0.15 s for an 854x480 frame, 0.55 s for 1920x1080 (the patch work is capped at MAX_PATCHES).
"""

from __future__ import annotations

import cv2
import numpy as np

PATCH = 8
MAX_PATCHES = 60_000  # plenty for a stable 64x64 covariance; more only costs time
MIN_PATCHES = 256  # fewer weakly textured patches than this: keep the previous estimate
LUMA = (0.299, 0.587, 0.114)  # BT.601, as BasicSR's Y channel
# Luma noise of independent RGB noise of one level: sqrt(sum of squared weights) times that level.
LUMA_GAIN = float(np.sqrt(sum(w * w for w in LUMA)))
ITERATIONS = 4
BANDS = 6  # brightness bands of equal patch count for signal-dependent noise
FLAT_RANGE = 2.0  # luma levels (0-255): a patch spanning less is taken as noiseless and left out


def estimate_noise(image: np.ndarray, *, peak: float | None = None) -> float:
    """The noise standard deviation of one picture (H,W) or (H,W,C) on the 0-255 scale.

    ``peak`` is the full-scale value (default: 255 for uint8, 65535 for uint16, 1.0 for floats).
    Returns 0.0 for a picture smaller than two patches a side.
    """
    if peak is None:
        peak = _peak_of(image.dtype)
    plane = _luma(image) * np.float32(255.0 / peak)
    if plane.shape[0] < 2 * PATCH or plane.shape[1] < 2 * PATCH:
        return 0.0
    patches, energy = _patches(plane)
    # Constant patches (letterbox bars, black or blown-out areas) hold no noise to measure, yet would be
    # chosen as the flattest and pull the estimate to zero.
    varied = np.ptp(patches, axis=1) >= FLAT_RANGE
    if varied.sum() >= MIN_PATCHES:
        patches, energy = patches[varied], energy[varied]
    means = patches.mean(axis=1)
    plain = _redundant_variance(patches)
    overall = _weak_texture_variance(patches, energy, means, plain)
    if overall is None:  # no weakly textured patch at all: the plain estimate is all there is
        overall = plain
    # Noise that grows with brightness (Poisson, speckle, real sensors): estimate per brightness band and
    # combine the variances weighted by the band's share of the picture (each band holds as many patches).
    edges = np.quantile(means, np.linspace(0.0, 1.0, BANDS + 1))
    band = np.clip(np.searchsorted(edges, means, side="right") - 1, 0, BANDS - 1)
    variances = []
    for b in range(BANDS):
        inside = band == b
        if inside.sum() < 4 * MIN_PATCHES:
            variances.append((inside.sum(), overall))
            continue
        start = max(overall, _redundant_variance(patches[inside]))
        found = _weak_texture_variance(patches[inside], energy[inside], means[inside], start)
        variances.append((inside.sum(), overall if found is None else found))
    counts = np.array([c for c, _ in variances], dtype=np.float64)
    variance = float(np.dot(counts, [v for _, v in variances]) / counts.sum())
    return float(np.sqrt(variance) / LUMA_GAIN)


def _weak_texture_variance(
    patches: np.ndarray, energy: np.ndarray, means: np.ndarray, variance: float
) -> float | None:
    """Liu et al.'s iteration from ``variance``: re-estimate on the patches whose gradient energy pure noise of
    the current level could give (and whose mean is far enough from 0 and 255 not to be clipped).

    None when not even the first step finds MIN_PATCHES such patches (texture everywhere: the start value,
    a plain patch-PCA estimate, would read that texture as noise).
    """
    found = None
    for _ in range(ITERATIONS):
        margin = 2.0 * np.sqrt(variance)  # clipped noise is smaller: keep patches well inside 0..255
        keep = (means > margin) & (means < 255.0 - margin) & (energy <= variance * _NOISE_ENERGY_Q99 + 1e-6)
        if keep.sum() < MIN_PATCHES:
            break
        found = _redundant_variance(patches[keep])
        done = abs(found - variance) < 1e-3 * max(variance, 1e-3)
        variance = found
        if done:
            break
    return found


def estimate_noise_frames(images: list[np.ndarray], *, peak: float | None = None, most: int = 3) -> float:
    """The noise level of a group of frames (a temporal window): the median over up to ``most`` of them.

    The frames are picked evenly (first and last included), so a window costs at most ``most`` estimates.
    """
    if not images:
        raise ValueError("no frames to estimate the noise of")
    picks = np.unique(np.linspace(0, len(images) - 1, min(most, len(images))).round().astype(int))
    return float(np.median([estimate_noise(images[i], peak=peak) for i in picks]))


def _luma(image: np.ndarray) -> np.ndarray:
    """BT.601 luma (float32) of an RGB picture; a single-channel picture as float32 (H,W)."""
    if image.ndim == 2 or image.shape[2] == 1:
        return image.reshape(image.shape[:2]).astype(np.float32)
    r, g, b = (image[:, :, i].astype(np.float32) for i in range(3))
    return LUMA[0] * r + LUMA[1] * g + LUMA[2] * b


def _peak_of(dtype: np.dtype) -> float:
    if dtype == np.uint8:
        return 255.0
    if dtype == np.uint16:
        return 65535.0
    return 1.0


def _patches(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping PATCH x PATCH patches as rows (float64) on a grid thinned to about MAX_PATCHES, and each
    patch's gradient energy (sum of squared horizontal and vertical differences inside it)."""
    h, w = plane.shape
    rows, cols = h - PATCH + 1, w - PATCH + 1
    stride = max(1, int(np.ceil(np.sqrt(rows * cols / MAX_PATCHES))))
    windows = np.lib.stride_tricks.sliding_window_view(plane, (PATCH, PATCH))[::stride, ::stride]
    patches = windows.reshape(-1, PATCH * PATCH).astype(np.float64)  # copies the thinned grid only
    dx2 = np.square(np.diff(plane, axis=1))
    dy2 = np.square(np.diff(plane, axis=0))
    # Sums over each patch's PATCH x (PATCH-1) horizontal and (PATCH-1) x PATCH vertical differences.
    ex = cv2.boxFilter(dx2, -1, (PATCH - 1, PATCH), normalize=False, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    ey = cv2.boxFilter(dy2, -1, (PATCH, PATCH - 1), normalize=False, anchor=(0, 0), borderType=cv2.BORDER_CONSTANT)
    energy = ex[:rows, :cols][::stride, ::stride] + ey[:rows, :cols][::stride, ::stride]
    return patches, energy.reshape(-1).astype(np.float64)


def _noise_energy_quantile(q_z: float = 2.326) -> float:
    """The 99th percentile (z = 2.326) of a patch's gradient energy under unit-variance white noise.

    The energy is a quadratic form x'Mx of the patch; it is matched to a Gamma law by its mean tr(M) and
    variance 2 tr(M^2) (Liu et al. 2013) and the quantile taken with the Wilson-Hilferty approximation.
    """
    n = PATCH
    dh = np.zeros((n * (n - 1), n * n))
    dv = np.zeros((n * (n - 1), n * n))
    for k, (i, j) in enumerate((i, j) for i in range(n) for j in range(n - 1)):
        dh[k, i * n + j], dh[k, i * n + j + 1] = -1.0, 1.0
        dv[k, j * n + i], dv[k, (j + 1) * n + i] = -1.0, 1.0
    m = dh.T @ dh + dv.T @ dv
    mean, var = np.trace(m), 2.0 * np.trace(m @ m)
    shape, theta = mean * mean / var, var / mean  # Gamma(shape, theta): 2 E / theta is chi-square(2 shape)
    dof = 2.0 * shape
    chi2 = dof * (1.0 - 2.0 / (9.0 * dof) + q_z * np.sqrt(2.0 / (9.0 * dof))) ** 3
    return float(chi2 * theta / 2.0)


_NOISE_ENERGY_Q99 = _noise_energy_quantile()


def _redundant_variance(patches: np.ndarray) -> float:
    """Chen et al.'s rule on the eigenvalues of the patches' covariance (see the module docstring)."""
    centred = patches - patches.mean(axis=0)
    covariance = centred.T @ centred / len(patches)
    eigen = np.sort(np.linalg.eigvalsh(covariance))  # ascending
    for end in range(len(eigen), 0, -1):
        tail = eigen[:end]
        tau = tail.mean()
        if np.sum(tail > tau) == np.sum(tail < tau):
            return max(float(tau), 0.0)
    return max(float(eigen[0]), 0.0)
