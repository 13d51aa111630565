"""Choosing the video encoder, pixel format and options for an output from its container and source.

.mp4/.mov/.mkv -> libx264 (crf 16, preset medium) for 8-bit sources, libx265 Main10 for deeper ones (libx264
10-bit, then 8-bit with a warning, as fallbacks); .webm -> libvpx-vp9; ffv1 stores RGB losslessly. Odd sizes
are encoded as 4:4:4 because 4:2:0 needs even dimensions.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import av

from vrestore.errors import OutputError, UsageError
from vrestore.io.info import VideoInfo
from vrestore.options import EncodeOptions

log = logging.getLogger("vrestore")

#: Supported video file extensions and the FFmpeg muxer used for each.
CONTAINERS: dict[str, str] = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}

#: Short codec names accepted for ``--codec``.
CODEC_ALIASES: dict[str, str] = {
    "h264": "libx264",
    "x264": "libx264",
    "avc": "libx264",
    "h265": "libx265",
    "hevc": "libx265",
    "x265": "libx265",
    "vp9": "libvpx-vp9",
}

DEFAULT_CRF: dict[str, int] = {"libx264": 16, "libx265": 18, "libvpx-vp9": 20}
DEFAULT_PRESET = "medium"


@dataclass(frozen=True)
class EncodePlan:
    """What the video stream will be: encoder, pixel format, encoder options, RGB or YUV storage."""

    codec: str
    pix_fmt: str
    options: dict[str, str]
    rgb: bool
    format_name: str


def plan_encoding(
    destination: Path, source: VideoInfo, encode: EncodeOptions, *, width: int, height: int
) -> EncodePlan:
    """Choose encoder, pix_fmt and options for ``destination`` from the source and ``encode``."""
    format_name = CONTAINERS.get(destination.suffix.lower())
    if format_name is None:
        raise OutputError(f"output {destination}: unsupported extension {destination.suffix!r}")
    codec = _choose_codec(format_name, source, encode.codec)
    pix_fmt = encode.pix_fmt or _choose_pix_fmt(codec, source, width, height)
    formats = _codec_pix_fmts(codec)
    if formats and pix_fmt not in formats:
        raise UsageError(f"--pix-fmt {pix_fmt} is not supported by {codec}; choose one of: {' '.join(formats)}")
    if _needs_even_size(pix_fmt, width, height):
        raise UsageError(
            f"--pix-fmt {pix_fmt} needs an even width and height but the output is {width}x{height}; "
            "use a 4:4:4 format such as yuv444p"
        )
    rgb = av.VideoFormat(pix_fmt).is_rgb
    return EncodePlan(codec, pix_fmt, _codec_options(codec, encode), rgb, format_name)


def _choose_codec(format_name: str, source: VideoInfo, requested: str | None) -> str:
    if requested:
        name = CODEC_ALIASES.get(requested.lower(), requested)
        try:
            codec = av.Codec(name, "w")
        except Exception as exc:  # av.codec.codec.UnknownCodecError and friends
            raise UsageError(
                f"--codec {requested}: no such encoder in this FFmpeg build; try libx264, libx265, libvpx-vp9 or ffv1"
            ) from exc
        if codec.type != "video":
            raise UsageError(f"--codec {requested} is not a video encoder; try libx264, libx265, libvpx-vp9 or ffv1")
        if not _container_accepts(format_name, codec.name):
            raise OutputError(
                f"codec {codec.name} cannot be stored in a {format_name} file; use .mkv or another --codec"
            )
        return codec.name
    if format_name == "webm":
        return "libvpx-vp9"
    if source.high_bit_depth:
        if _has_encoder("libx265"):
            return "libx265"
        if "yuv420p10le" in _codec_pix_fmts("libx264"):
            return "libx264"
        log.warning(
            "no 10-bit encoder in this FFmpeg build: writing 8-bit libx264 for a %d-bit source", source.bit_depth
        )
    return "libx264"


def _choose_pix_fmt(codec: str, source: VideoInfo, width: int, height: int) -> str:
    formats = _codec_pix_fmts(codec)
    high = source.high_bit_depth
    if codec == "ffv1":
        return "gbrp16le" if high and "gbrp16le" in formats else "bgr0"
    full_chroma = width % 2 == 1 or height % 2 == 1 or source.pix_fmt.startswith(("yuv444", "yuvj444", "gbr"))
    base = "yuv444p" if full_chroma else "yuv420p"
    if high:
        if f"{base}10le" in formats:
            return f"{base}10le"
        log.warning(
            "%s in this FFmpeg build has no 10-bit %s: writing 8-bit for a %d-bit source", codec, base, source.bit_depth
        )
    if base not in formats and formats:
        raise UsageError(
            f"{codec} cannot encode {base} ({width}x{height}); pass --pix-fmt (one of: {' '.join(formats)})"
        )
    return base


def _codec_options(codec: str, encode: EncodeOptions) -> dict[str, str]:
    crf = encode.crf if encode.crf is not None else DEFAULT_CRF.get(codec)
    options: dict[str, str] = {}
    if codec in ("libx264", "libx265"):
        options["preset"] = encode.preset or DEFAULT_PRESET
        if crf is not None:
            options["crf"] = str(crf)
        if codec == "libx265":
            options["x265-params"] = "log-level=error"
    elif codec == "libvpx-vp9":
        options.update({"b": "0", "row-mt": "1", "cpu-used": "4"})
        if crf is not None:
            options["crf"] = str(crf)
        if encode.preset and encode.preset.isdigit():
            options["cpu-used"] = encode.preset
    elif codec == "ffv1":
        options.update({"level": "3", "slicecrc": "1"})
    else:  # another encoder named with --codec: pass what the user asked for
        if encode.crf is not None:
            options["crf"] = str(encode.crf)
        if encode.preset:
            options["preset"] = encode.preset
    return options


def _needs_even_size(pix_fmt: str, width: int, height: int) -> bool:
    """True when chroma subsampling of ``pix_fmt`` forbids an odd ``width`` or ``height``."""
    halves_width = pix_fmt.startswith(("yuv420", "yuva420", "yuv422", "yuva422", "yuv411", "yuv410", "nv"))
    halves_height = pix_fmt.startswith(("yuv420", "yuva420", "yuv440", "yuv410", "nv12", "nv21"))
    return (halves_width and width % 2 == 1) or (halves_height and height % 2 == 1)


def _has_encoder(name: str) -> bool:
    try:
        av.Codec(name, "w")
    except Exception:
        return False
    return True


def _codec_pix_fmts(name: str) -> list[str]:
    try:
        formats = av.Codec(name, "w").video_formats
    except Exception:
        return []
    return [f.name for f in formats or ()]


def _container_accepts(format_name: str, codec_name: str) -> bool:
    trial = av.open(io.BytesIO(), "w", format=format_name)
    try:
        return codec_name in trial.supported_codecs or av.Codec(codec_name, "w").name in trial.supported_codecs
    finally:
        trial.close()
