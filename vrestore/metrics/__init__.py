"""Full-reference quality metrics with BasicSR's conventions (PSNR, SSIM), per frame and per video."""

from vrestore.metrics.frames import crop_border, rgb_to_y
from vrestore.metrics.psnr import psnr
from vrestore.metrics.ssim import ssim

__all__ = ["crop_border", "psnr", "rgb_to_y", "ssim"]
