"""Compression: JPEG (OpenCV), intra-frame video coding at a bit rate, inter-frame coding of a chunk at a CRF.

Video coding goes through ``vrestore.io.memory_codec`` (PyAV, in memory; only io/ imports av).
"""

from __future__ import annotations

import cv2
import torch

from vrestore.degrade._tensor import from_uint8_hwc, per_frame, to_uint8_hwc
from vrestore.errors import UsageError
from vrestore.io.memory_codec import encode_decode_frames


def jpeg(x: torch.Tensor, quality: int) -> torch.Tensor:
    """Encode and decode each frame as a JPEG of ``quality`` (OpenCV defaults: baseline, 4:2:0)."""

    def one(frame: torch.Tensor) -> torch.Tensor:
        bgr = cv2.cvtColor(to_uint8_hwc(frame), cv2.COLOR_RGB2BGR)
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        if not ok:
            raise UsageError(f"JPEG encoding at quality {quality} failed; use a quality between 1 and 100")
        rgb = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        return from_uint8_hwc(rgb, frame)

    return per_frame(x, one)


def video_intra(x: torch.Tensor, codec: str, bit_rate: int) -> torch.Tensor:
    """Code each frame alone as a one-frame video at ``bit_rate`` bits per frame (yuv420p; any size for mpeg4)."""

    def one(frame: torch.Tensor) -> torch.Tensor:
        out = encode_decode_frames([to_uint8_hwc(frame)], codec, bit_rate=int(bit_rate), rate=1)
        return from_uint8_hwc(out[0], frame)

    return per_frame(x, one)


def video_inter(x: torch.Tensor, codec: str, crf: int, fps: int = 25) -> torch.Tensor:
    """Code a (T,C,H,W) chunk as one video at ``crf`` (inter-frame prediction); a (C,H,W) frame alone."""
    frames = x if x.ndim == 4 else x[None]
    h, w = frames.shape[-2:]
    pix_fmt = "yuv420p" if h % 2 == 0 and w % 2 == 0 else "yuv444p"
    out = encode_decode_frames([to_uint8_hwc(f) for f in frames], codec, crf=int(crf), pix_fmt=pix_fmt, rate=fps)
    stacked = torch.stack([from_uint8_hwc(img, frames[0]) for img in out])
    return stacked if x.ndim == 4 else stacked[0]
