"""BasicSR's metric conventions as plain numbers and small numpy helpers (no torch: the CPU path starts fast)."""

from __future__ import annotations

import functools
import math

import numpy as np

# SSIM (Wang et al. 2004 as BasicSR and scikit-image compute it): Gaussian window, constants on the peak scale.
WINDOW = 11
SIGMA = 1.5
K1, K2 = 0.01, 0.03

# BasicSR's bgr2ycbcr(y_only=True) row, reordered for RGB: on the 0..255 scale with RGB in [0, 1],
# Y = 16 + 65.481 R + 128.553 G + 24.966 B (BT.601, limited range). On a 0..peak scale (10-bit: 1023)
# the same formula is applied to RGB / peak and the result scaled by peak / 255.
Y_WEIGHTS = (65.481, 128.553, 24.966)
Y_OFFSET = 16.0


@functools.lru_cache(maxsize=1)
def gaussian_kernel() -> np.ndarray:
    """The normalised 11-tap Gaussian (sigma 1.5) in float64, as ``cv2.getGaussianKernel(11, 1.5)``."""
    coords = np.arange(WINDOW, dtype=np.float64) - WINDOW // 2
    kernel = np.exp(-(coords**2) / (2 * SIGMA**2))
    kernel /= kernel.sum()
    kernel.setflags(write=False)
    return kernel


def check_size(height: int, width: int) -> None:
    """Raise ValueError when an image is smaller than the SSIM window."""
    if min(height, width) < WINDOW:
        raise ValueError(f"ssim needs images of at least {WINDOW}x{WINDOW}, got {width}x{height}")


def psnr_from_mse(mse: float, peak: float) -> float:
    """10 log10(peak^2 / mse); inf for mse 0 (identical images), as BasicSR's calculate_psnr."""
    return math.inf if mse == 0 else 10.0 * math.log10(peak**2 / mse)
