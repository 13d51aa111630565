"""Encode RGB frames with a video codec and decode them back, entirely in memory (no temporary files).

Used by ``vrestore.degrade`` to add real codec artefacts: one frame alone (intra-frame compression at a
bit rate, as the TUD protocol does) or a whole chunk of frames (inter-frame compression at a CRF).
Encoders run single-threaded and RGB <-> YUV uses BT.601 limited range both ways with fixed swscale
settings, so the same input and settings always give the same pixels. Several frames at a CRF go through
libx264 without its macroblock tree (``mbtree=0``): with it, the same frames now and then came back with
other bits once other encoders had run in the process, which broke the replay of synth sidecars. One
frame at a bit rate keeps x264's defaults (reproducible; the tree sets how hard that frame is coded).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from fractions import Fraction

import av
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

from vrestore.errors import UsageError

#: Short names accepted for the encoders (``h264`` is what the official TUD script draws).
ENCODER_ALIASES: dict[str, str] = {"h264": "libx264", "x264": "libx264", "h265": "libx265", "hevc": "libx265",
                                   "x265": "libx265"}


def resolve_encoder(name: str) -> str:
    """The FFmpeg encoder name for ``name`` (aliases resolved); UsageError when this build lacks it."""
    resolved = ENCODER_ALIASES.get(name.lower(), name)
    try:
        codec = av.Codec(resolved, "w")
    except Exception as exc:  # UnknownCodecError and friends
        raise UsageError(f"video codec '{name}' is not available in this FFmpeg build; use libx264 or mpeg4") from exc
    if codec.type != "video":
        raise UsageError(f"'{name}' is not a video encoder; use libx264, libx265 or mpeg4")
    return codec.name


def encode_decode_frames(
    images: Sequence[np.ndarray],
    codec: str,
    *,
    bit_rate: int | None = None,
    crf: int | None = None,
    pix_fmt: str = "yuv420p",
    rate: Fraction | int = 1,
) -> list[np.ndarray]:
    """Compress uint8 RGB ``images`` (H, W, 3) with ``codec`` and return the decoded uint8 RGB images.

    Rate control is ``bit_rate`` (bits per second at ``rate`` frames per second) or ``crf`` (libx264 /
    libx265). The frames form one stream, so several frames give inter-frame (GOP) compression.
    """
    if not images:
        return []
    height, width = images[0].shape[:2]
    encoder = resolve_encoder(codec)
    options: dict[str, str] = {}
    if crf is not None:
        options["crf"] = str(crf)
    if encoder == "libx264":
        options["threads"] = "1"
        if crf is not None and len(images) > 1:
            options["x264-params"] = "mbtree=0"
    elif encoder == "libx265":
        options["x265-params"] = "log-level=error:pools=none:frame-threads=1"
    buffer = io.BytesIO()
    try:
        with av.open(buffer, "w", format="matroska", options={"fflags": "+bitexact"}) as container:
            stream = container.add_stream(encoder, rate=Fraction(rate), options=options)
            stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
            stream.codec_context.thread_count = 1
            if bit_rate is not None:
                stream.bit_rate = int(bit_rate)
            for index, image in enumerate(images):
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image, dtype=np.uint8), format="rgb24")
                frame = frame.reformat(format=pix_fmt, dst_colorspace=Colorspace.ITU601,
                                       dst_color_range=ColorRange.MPEG)
                frame.pts = index
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode(None):
                container.mux(packet)
        buffer.seek(0)
        with av.open(buffer, "r", format="matroska") as container:
            decoded = [
                np.ascontiguousarray(
                    frame.reformat(format="rgb24", src_colorspace=Colorspace.ITU601,
                                   src_color_range=ColorRange.MPEG).to_ndarray()
                )
                for frame in container.decode(video=0)
            ]
    except av.FFmpegError as exc:
        raise UsageError(
            f"{encoder} could not compress {width}x{height} frames ({exc}); "
            "try another codec (mpeg4 accepts any size)"
        ) from exc
    if len(decoded) != len(images):
        raise UsageError(f"{encoder} returned {len(decoded)} frames for {len(images)}; try another codec")
    return decoded
