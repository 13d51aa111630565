"""SSIM per image with BasicSR's conventions, on the CPU or any torch device.

Conventions (BasicSR ``calculate_ssim``, equal to scikit-image's ``structural_similarity(gaussian_weights=True,
sigma=1.5, use_sample_covariance=False, data_range=peak)``): Gaussian window 11x11 with sigma 1.5, K1 = 0.01,
K2 = 0.03 on the 0..peak scale, population (not sample) statistics, 'valid' filtering (the SSIM map loses 5
pixels on every side), computed per channel and averaged.

The map is evaluated in an algebraically identical "difference" form. With e = x - y and the local
(Gaussian-weighted) means ``mu``:

    SSIM = (1 - mu_e^2 / (mu_x^2 + mu_y^2 + C1)) * (1 - var_e / (var_x + var_y + C2))

because 2 mu_x mu_y = mu_x^2 + mu_y^2 - mu_e^2 and 2 cov_xy = var_x + var_y - var_e. Only four planes per
channel are filtered (x, e, x^2 + y^2, e^2) instead of five, and the small differences e carry the
numerator terms, so they keep full precision in float32; the large second moments x^2 + y^2 only enter a
denominator that is at least C2.

- CPU (``vrestore.metrics.cpu.CpuSsim``): float32 filtering with OpenCV's separable filter (BasicSR's own
  metric filters with OpenCV too), strip by strip into reused buffers, after centring each channel on an
  integer; numpy for the arithmetic. Within 1e-7 of float64 references on real frames and 2e-6 on
  adversarial ones (flat areas at 0/255, hard edges; the tests bound it by 1e-5). Not torch on the CPU:
  with decoding threads busy, every multi-threaded torch CPU op waits milliseconds for its OpenMP team,
  its conv2d allocates fresh (page-faulting) outputs and is 3-4x slower than OpenCV here, and float64
  conv2d is ~50x slower. Frames are scored in parallel threads instead (``FrameScorer``).
- Other devices: float64 grouped convolutions in torch, whole batches at once (float64 also avoids TF32).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vrestore.metrics.conventions import K1, K2, WINDOW, check_size, gaussian_kernel
from vrestore.metrics.cpu import CpuSsim


def ssim(a: torch.Tensor, b: torch.Tensor, peak: float) -> torch.Tensor:
    """SSIM of each pair of images in two (N,C,H,W) batches on the 0..peak scale; float64 (N,).

    Integer or float inputs; float64 inputs keep their precision. CPU tensors use the OpenCV path,
    others float64 torch convolutions.
    """
    if a.shape != b.shape:
        raise ValueError(f"ssim needs equal shapes, got {tuple(a.shape)} and {tuple(b.shape)}")
    n, c, h, w = a.shape
    check_size(h, w)
    if a.device.type != "cpu":
        return ssim_torch(a, b, peak)
    engine = CpuSsim(c, h, w)
    return torch.tensor([engine(a[i].numpy(), b[i].numpy(), peak)[1] for i in range(n)], dtype=torch.float64)


def ssim_torch(a: torch.Tensor, b: torch.Tensor, peak: float) -> torch.Tensor:
    """SSIM of (N,C,H,W) batches with float64 grouped convolutions on the tensors' device; float64 (N,)."""
    x, y = a.double(), b.double()
    n, c, h, w = x.shape
    check_size(h, w)
    e = x - y
    planes = torch.cat([x, e, x * x + y * y, e * e], dim=1)
    g = torch.from_numpy(gaussian_kernel().copy()).to(x.device)
    k = 4 * c
    blurred = F.conv2d(planes, g.view(1, 1, 1, WINDOW).expand(k, 1, 1, WINDOW), groups=k)
    blurred = F.conv2d(blurred, g.view(1, 1, WINDOW, 1).expand(k, 1, WINDOW, 1), groups=k)
    mu_x, mu_e, second, second_e = blurred.split(c, dim=1)
    mu_y = mu_x - mu_e
    c1, c2 = (K1 * peak) ** 2, (K2 * peak) ** 2
    luminance = 1 - mu_e**2 / (mu_x**2 + mu_y**2 + c1)
    structure = 1 - (second_e - mu_e**2) / (second - mu_x**2 - mu_y**2 + c2)
    return (luminance * structure).mean(dim=(2, 3)).mean(dim=1)
