"""Describe a video source (file, y4m, image folder/glob) as a VideoInfo before decoding it."""

from __future__ import annotations

import logging
import math
import os
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
import av.video

from vrestore.errors import InputError
from vrestore.io import timestamps
from vrestore.io.frames import find_frame_files, looks_like_glob, probe_frame_files
from vrestore.io.info import ColorTags, StreamInfo, VideoInfo
from vrestore.io.stdio import is_stdio

log = logging.getLogger("vrestore")

# FFmpeg's AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic / AVColorRange values
# (stable ABI numbers from libavutil/pixfmt.h) -> the names ffprobe prints. "unspecified" is absent.
MATRIX_NAMES = {
    0: "gbr", 1: "bt709", 4: "fcc", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "ycgco", 9: "bt2020nc",
    10: "bt2020c", 11: "smpte2085", 12: "chroma-derived-nc", 13: "chroma-derived-c", 14: "ictcp",
    15: "ipt-c2", 16: "ycgco-re", 17: "ycgco-ro",
}  # fmt: skip
PRIMARIES_NAMES = {
    1: "bt709", 4: "bt470m", 5: "bt470bg", 6: "smpte170m", 7: "smpte240m", 8: "film", 9: "bt2020",
    10: "smpte428", 11: "smpte431", 12: "smpte432", 22: "ebu3213",
}  # fmt: skip
TRANSFER_NAMES = {
    1: "bt709", 4: "gamma22", 5: "gamma28", 6: "smpte170m", 7: "smpte240m", 8: "linear", 9: "log100",
    10: "log316", 11: "iec61966-2-4", 12: "bt1361e", 13: "iec61966-2-1", 14: "bt2020-10", 15: "bt2020-12",
    16: "smpte2084", 17: "smpte428", 18: "arib-std-b67",
}  # fmt: skip
RANGE_NAMES = {1: "tv", 2: "pc"}

# Matrices that swscale can convert from; anything else decodes with the height heuristic.
DECODABLE_MATRICES = frozenset({"bt709", "smpte170m", "bt470bg", "fcc", "smpte240m", "bt2020nc", "bt2020c"})

_RAW_SUFFIXES = frozenset({".yuv"})


def probe(source: str | os.PathLike[str], *, frame_rate: Fraction | None = None) -> VideoInfo:
    """Describe ``source``: a video file, a .y4m file, a folder of images, a glob or a single image.

    ``frame_rate`` applies to image sequences only (default 25 fps); video files keep their own timing.
    Raises InputError (one line naming the source and the fix) when it cannot be read as video.
    ``-`` is stdin (see ``io/stdin.py``).
    """
    if is_stdio(source):
        from vrestore.io.stdin import stdin_source  # imports this module

        return stdin_source().probe()
    text, files = resolve_source(source)
    if files is not None:
        return probe_frame_files(text, files, frame_rate)
    with open_container(text) as container:
        stream = select_video_stream(container, text)
        return info_from_container(container, stream, text)


def resolve_source(source: str | os.PathLike[str]) -> tuple[str, list[Path] | None]:
    """The source as text, and its image files when it is an image sequence (None: a container file)."""
    text = os.fspath(source)
    if not looks_like_glob(text) and not os.path.isdir(text):
        _check_readable_file(text)
    return text, find_frame_files(text)


def _check_readable_file(text: str) -> None:
    """Raise InputError unless ``text`` is an existing, non-empty, readable file."""
    path = Path(text)
    if not path.exists():
        raise InputError(f"input '{text}' does not exist; check the path")
    if not path.is_file():
        raise InputError(f"input '{text}' is not a regular file; pass a video file or a folder of frames")
    if not os.access(path, os.R_OK):
        raise InputError(f"input '{text}' cannot be read (permission denied); check its permissions")
    if path.stat().st_size == 0:
        raise InputError(f"input '{text}' is empty (0 bytes); check that it was copied or downloaded completely")
    if path.suffix.lower() in _RAW_SUFFIXES:
        raise InputError(
            f"input '{text}' is headerless raw video, which is not supported; wrap it first, e.g. "
            f"ffmpeg -f rawvideo -pix_fmt yuv420p -s WxH -r 25 -i '{text}' out.y4m"
        )


def open_container(text: str) -> av.container.InputContainer:
    """Open a media file with PyAV, turning its errors into one-line InputErrors."""
    try:
        return av.open(text, mode="r")
    except PermissionError:
        raise InputError(f"input '{text}' cannot be read (permission denied); check its permissions") from None
    except (av.FFmpegError, OSError, ValueError) as exc:
        reason = _one_line(getattr(exc, "strerror", None) or str(exc))
        raise InputError(
            f"input '{text}' cannot be opened as a video ({reason}); it is not a video or is truncated, "
            "check the file or re-encode it with ffmpeg"
        ) from None


def no_frames_error(source: str, cause: Exception | None = None) -> InputError:
    """The error for a source in which no video frame decodes (``cause``: the decoder's, when it gave one).

    The probe raises it; so does a reader whose source changed after the probe (the one check of both).
    """
    reason = f" ({_one_line(str(cause))})" if cause is not None else ""
    return InputError(f"input '{source}' contains no decodable video frames{reason}; the file is corrupt or truncated")


def select_video_stream(container: av.container.InputContainer, text: str) -> av.video.VideoStream:
    """The first real video stream (cover art / attached pictures are skipped)."""
    for stream in container.streams.video:
        if not _is_attached_picture(stream):
            return stream
    found = sorted({s.type for s in container.streams} - {"video"}) or ["nothing"]
    what = "a cover image only" if container.streams.video else "found: " + ", ".join(found)
    raise InputError(f"input '{text}' has no video stream ({what}); pass a video file")


def info_from_container(container: av.container.InputContainer, stream: av.video.VideoStream, text: str) -> VideoInfo:
    """Fill a VideoInfo from an open container (decodes the first frame for rotation and colour tags).

    The first packets' timestamps decide whether the source timing is kept (see ``io/timestamps.py``).
    """
    first, stamps = _scan_start(container, stream)
    if first is None:
        raise no_frames_error(text)
    cc = stream.codec_context
    pix_fmt = cc.format.name if cc.format is not None else first.format.name
    width, height = (cc.width, cc.height) if cc.width and cc.height else (first.width, first.height)
    time_base = rational(stream.time_base)
    rates = timestamps.Rates(
        average=rational(stream.average_rate),
        guessed=rational(stream.guessed_rate),
        base=rational(stream.base_rate),
        codec=rational(cc.framerate),
    )
    rate = rates.average or rates.guessed or rates.base
    duration_s = stream_duration_s(container, stream)
    frame_count = _frame_count(stream, duration_s, rate)
    retimed = timestamps.broken_reason(stamps, time_base)
    fallback = timestamps.fallback_rate(rates, broken_from_start=retimed is not None)
    if retimed is not None:
        rate = fallback
        time_base = timestamps.repaired_time_base(time_base, rate)
        frame_count = int(stream.frames) if stream.frames else None
        duration_s = float(frame_count / rate) if frame_count else None
    kind = "y4m" if container.format.name == "yuv4mpegpipe" else "video"
    return VideoInfo(
        source=text,
        kind=kind,
        width=width,
        height=height,
        frame_count=frame_count,
        time_base=time_base,
        frame_rate=rate,
        start_pts=stream.start_time,
        duration_s=duration_s,
        codec=cc.name,
        pix_fmt=pix_fmt,
        bit_depth=bit_depth(pix_fmt),
        color=color_tags(cc, first, pix_fmt, height),
        rotation=_rotation(stream, first),
        streams=_other_streams(container, stream),
        retimed=retimed,
        fallback_rate=fallback,
    )


def _scan_start(container: av.container.InputContainer, stream: av.video.VideoStream) -> tuple[Any, list[int]]:
    """The first decoded frame (None when nothing decodes) and the timestamps of the first video packets.

    Packets are read until the first frame has decoded and ``timestamps.PROBE_PACKETS`` stamps are known
    (pts, else dts; empty packets, such as AVI's padding chunks, carry none).
    """
    first = None
    stamps: list[int] = []
    try:
        for packet in container.demux(stream):
            stamp = packet.pts if packet.pts is not None else packet.dts
            if packet.size and stamp is not None:
                stamps.append(int(stamp))
            if first is None:  # the final empty packet flushes the decoder
                first = next(iter(packet.decode()), None)
            if first is not None and len(stamps) >= timestamps.PROBE_PACKETS:
                break
    except av.FFmpegError as exc:
        log.debug("reading the first frames failed: %s", exc)
    return first, stamps[: timestamps.PROBE_PACKETS]


def rational(value: Any) -> Fraction | None:
    """PyAV rational (Fraction in av 18, AVRational in av 19; unset = None or falsy 0/1) -> Fraction or None."""
    if not value or not value.denominator:
        return None
    return Fraction(int(value.numerator), int(value.denominator))


def stream_duration_s(container: av.container.InputContainer, stream: av.video.VideoStream) -> float | None:
    """Video stream duration in seconds: the stream's own, Matroska's DURATION tag, else the container's."""
    own = stream_own_duration_s(stream)
    if own is not None:
        return own
    if container.duration:
        return container.duration / av.time_base
    return None


def stream_own_duration_s(stream: av.video.VideoStream) -> float | None:
    """Duration that belongs to the video stream alone (no container fallback), in seconds."""
    time_base = rational(stream.time_base)
    if stream.duration and time_base:
        return float(stream.duration * time_base)
    return _parse_hms(stream.metadata.get("DURATION") or stream.metadata.get("duration"))


def _parse_hms(text: str | None) -> float | None:
    """'HH:MM:SS.fraction' (Matroska DURATION tag) -> seconds."""
    if not text:
        return None
    try:
        hours, minutes, seconds = text.split(":")
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    except ValueError:
        return None


def _frame_count(stream: av.video.VideoStream, duration_s: float | None, rate: Fraction | None) -> int | None:
    if stream.frames:
        return int(stream.frames)
    if duration_s and rate:
        return max(1, round(duration_s * rate))
    return None


def bit_depth(pix_fmt: str) -> int:
    """Bits per sample of a pixel format (yuv420p -> 8, yuv420p10le -> 10)."""
    components = av.VideoFormat(pix_fmt).components
    return max((c.bits for c in components), default=8)


def is_rgb_format(pix_fmt: str) -> bool:
    """True for RGB-family pixel formats (rgb24, gbrp, bgr0, ...), which have no YUV matrix."""
    return bool(av.VideoFormat(pix_fmt).is_rgb)


def color_tags(cc: Any, first: Any, pix_fmt: str, height: int) -> ColorTags:
    """Colour tags (stream first, then the first frame's) and the effective matrix/range used for decoding."""

    def tag(names: dict[int, str], attr: str) -> str | None:
        return names.get(int(getattr(cc, attr) or 0)) or names.get(int(getattr(first, attr) or 0))

    matrix = tag(MATRIX_NAMES, "colorspace")
    color_range = tag(RANGE_NAMES, "color_range")
    guess = "bt709" if height >= 720 else "smpte170m"
    if is_rgb_format(pix_fmt):
        range_effective = "pc"
    elif color_range:
        range_effective = color_range
    else:
        range_effective = "pc" if pix_fmt.startswith("yuvj") else "tv"
    return ColorTags(
        primaries=tag(PRIMARIES_NAMES, "color_primaries"),
        transfer=tag(TRANSFER_NAMES, "color_trc"),
        matrix=matrix,
        range=color_range,
        matrix_effective=matrix if matrix in DECODABLE_MATRICES else guess,
        range_effective=range_effective,
    )


def _rotation(stream: av.video.VideoStream, first: Any) -> int:
    """Display-matrix rotation in degrees (counter-clockwise, FFmpeg's sign): 0, 90, -90 or 180.

    av 18/19 expose no stream-level getter for the display matrix, so it is read from the first decoded
    frame's side data (``VideoFrame.rotation``); old files may carry a 'rotate' tag (clockwise) instead.
    """
    degrees = float(getattr(first, "rotation", 0) or 0)
    if not degrees and stream.metadata.get("rotate"):
        try:
            degrees = -float(stream.metadata["rotate"])
        except ValueError:
            degrees = 0.0
    if math.isnan(degrees):
        return 0
    normal = round(degrees) % 360
    return normal - 360 if normal > 180 else normal


def _other_streams(container: av.container.InputContainer, video: av.video.VideoStream) -> tuple[StreamInfo, ...]:
    """Audio, subtitle and data streams, by container index, for the writer to copy."""
    found = []
    for stream in container.streams:
        if stream.index == video.index or stream.type not in ("audio", "subtitle", "data"):
            continue
        cc = getattr(stream, "codec_context", None)
        codec = getattr(cc, "name", None) or "unknown"
        found.append(StreamInfo(index=stream.index, kind=stream.type, codec=codec, language=stream.language or None))
    return tuple(found)


def _is_attached_picture(stream: Any) -> bool:
    disposition = getattr(stream, "disposition", None)
    flag = getattr(type(disposition), "attached_pic", None)
    return bool(disposition is not None and flag is not None and disposition & flag)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())
