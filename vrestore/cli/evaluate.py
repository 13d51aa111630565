"""`vrestore eval`: PSNR/SSIM between restored and reference videos (being written)."""
