"""Full-reference quality metrics with BasicSR's conventions (PSNR, SSIM), per frame and per video.

``vrestore.metrics.psnr.psnr`` and ``vrestore.metrics.ssim.ssim`` score (N,C,H,W) tensors;
``FrameScorer`` scores decoded RGB frames (bit depth, Y channel, border crop); ``evaluate_pair`` scores
whole videos. Names load lazily so that the CPU path never imports torch.
"""

from __future__ import annotations

from typing import Any

_WHERE = {
    "FrameScorer": "vrestore.metrics.score",
    "crop_border": "vrestore.metrics.frames",
    "rgb_to_y": "vrestore.metrics.frames",
    "evaluate_pair": "vrestore.metrics.video",
    "EvalOptions": "vrestore.metrics.video",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'vrestore.metrics' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_WHERE[name]), name)
