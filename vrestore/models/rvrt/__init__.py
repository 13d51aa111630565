"""RVRT (Recurrent Video Restoration Transformer, NeurIPS 2022) with the six official checkpoints.

Pure PyTorch: the official CUDA guided deformable attention is replaced by a grid_sample formulation
(``deform_attn.py``) that computes the same values. Official test settings: SR runs on 128 px tiles,
deblurring and denoising on 256 px tiles, both with 20 px overlap and 2 overlapping frames between clips.
"""

from __future__ import annotations

from functools import partial

from vrestore.models.registry import register
from vrestore.models.rvrt.net import DEBLUR, DENOISE, RVRT, SR, RVRTConfig
from vrestore.models.spec import ModelSpec, Temporal

__all__ = ["RVRT", "RVRTConfig"]

# SpyNet needs more than 32 px; deblurring/denoising compute flow on a quarter-size copy (136 / 4 = 34).
_SR_MIN, _RESTORE_MIN = 40, 136


def _spec(tag: str, config: RVRTConfig, task: str, description: str, **fields) -> ModelSpec:
    sr = config.upscale == 4
    return register(
        ModelSpec(
            id=f"rvrt.{tag}",
            factory=partial(RVRT, config),
            task=task,
            description=description,
            weights=f"rvrt.{tag}",
            scale=config.upscale,
            temporal=Temporal.CLIP,
            clip_length=16,
            temporal_radius=1,
            multiple_of=8,
            min_size=_SR_MIN if sr else _RESTORE_MIN,
            default_tile=128 if sr else 256,
            state_key="params",
            **fields,
        ),
        default=tag == "sr-reds-x4",
    )


_spec("sr-reds-x4", SR, "sr", "x4 video super-resolution, bicubic degradation, trained on REDS")
_spec("sr-vimeo-bi-x4", SR, "sr", "x4 video super-resolution, bicubic degradation, trained on Vimeo-90K")
_spec("sr-vimeo-bd-x4", SR, "sr", "x4 video super-resolution, blur-downsample degradation, Vimeo-90K")
_spec("deblur-dvd", DEBLUR, "deblur", "video deblurring (hand-held camera shake), trained on DVD")
_spec("deblur-gopro", DEBLUR, "deblur", "video deblurring (motion blur), trained on GoPro")
_spec(
    "denoise-davis", DENOISE, "denoise",
    "non-blind video denoising of Gaussian noise, trained on DAVIS; --sigma gives the noise level (0-255), "
    "by default estimated from each window of frames",
    extra_inputs=("sigma",), extra_defaults=(("sigma", "auto"),), auto_inputs=("sigma",),
)
