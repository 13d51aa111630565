"""Write restored frames to a video file: encode with the source timing and colour, copy audio, rename at the end.

Design (see ARCHITECTURE.md, io/writer.py and specs/video-io-and-peers.md section 4):

* **Temp file**: the output is written to ``.<name>.part<ext>`` in the destination folder (hidden, same
  filesystem, real extension last), e.g. ``out.mp4`` -> ``.out.mp4.part.mp4``. ``close()`` renames it onto
  the destination with ``os.replace`` (atomic); ``abort()`` deletes it. The destination is never touched
  before a successful ``close()``.
* **Codecs**: .mp4/.mov/.mkv -> libx264 (crf 16, preset medium) for 8-bit sources; for sources with more
  than 8 bits per sample -> libx265 Main10 (``yuv420p10le``, tagged ``hvc1`` in mp4/mov), falling back to
  libx264 10-bit when the bundled x264 supports it, then to 8-bit with a warning. .webm -> libvpx-vp9
  (8-bit only in the bundled build). ``ffv1`` stores RGB losslessly (``bgr0`` for 8-bit, ``gbrp16le`` for
  more), so an identity pipeline is bit-exact per frame.
* **Odd sizes**: 4:2:0 needs even width and height, so odd sizes (and 4:4:4 sources) are encoded as
  4:4:4 (``yuv444p`` / ``yuv444p10le``): exact size, no padding, full chroma. Some hardware players
  cannot decode 4:4:4 H.264; ``--pix-fmt`` overrides.
* **Colour**: RGB is converted to YUV here with the source's *effective* matrix and range (accurate
  rounding), never by ``encode()``'s BT.601 default, and the stream is tagged with that matrix/range and
  the source's primaries/transfer when the source has them.
* **Timing**: every frame keeps its source pts (VFR preserved). The encoder time base is the source's
  time base; frames without pts (image folders) are numbered at the source frame rate. Timestamps must
  strictly increase, otherwise :class:`~vrestore.errors.InputError` is raised before anything broken is
  written. mp4/mov get ``movie_timescale`` = lcm(1000, time-base denominator) so edit lists are exact.
  Matroska keeps 1 ms timestamps and cannot start below zero: when the source has negative timestamps
  (e.g. MP3/AAC priming in mp4) the muxer shifts *all* streams by the same amount (sync is kept).
  Frame durations are set (from the frame, or from the next frame's pts) so the last frame of a VFR clip
  keeps its length.
* **Audio/subtitles**: every audio and subtitle stream of the source file is stream-copied with unchanged
  timestamps, muxed as the video advances (interleaved), the rest at close. An audio codec the container
  cannot hold is re-encoded (AAC for mp4/mov, Opus for webm, FLAC for mkv) with a warning; if that fails
  too, OutputError. Subtitles that cannot be copied are skipped with a warning. Data streams are skipped.
* **Rotation**: frames are expected in coded (stored) orientation, as decoded; the source display matrix
  is written on the output stream so players show it upright like the input.
"""

from __future__ import annotations

import io
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import av
import numpy as np

from vrestore.errors import InputError, OutputError, UsageError, VrestoreError
from vrestore.frame import Frame
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
#: How far (seconds) copied audio may run ahead of the last video frame written.
AUDIO_LEAD_S = Fraction(1, 2)

# FFmpeg colour names -> AVColorSpace / AVColorPrimaries / AVColorTransferCharacteristic / AVColorRange.
_MATRIX_IDS = {
    "rgb": 0,
    "gbr": 0,
    "bt709": 1,
    "fcc": 4,
    "bt470bg": 5,
    "smpte170m": 6,
    "smpte240m": 7,
    "ycgco": 8,
    "bt2020nc": 9,
    "bt2020_ncl": 9,
    "bt2020c": 10,
    "bt2020_cl": 10,
}
_PRIMARIES_IDS = {
    "bt709": 1,
    "bt470m": 4,
    "bt470bg": 5,
    "smpte170m": 6,
    "smpte240m": 7,
    "film": 8,
    "bt2020": 9,
    "smpte428": 10,
    "smpte431": 11,
    "smpte432": 12,
    "ebu3213": 22,
    "jedec-p22": 22,
}
_TRC_IDS = {
    "bt709": 1,
    "gamma22": 4,
    "gamma28": 5,
    "smpte170m": 6,
    "smpte240m": 7,
    "linear": 8,
    "log100": 9,
    "log316": 10,
    "iec61966-2-4": 11,
    "bt1361e": 12,
    "iec61966-2-1": 13,
    "bt2020-10": 14,
    "bt2020-12": 15,
    "smpte2084": 16,
    "smpte428": 17,
    "arib-std-b67": 18,
}
_RANGE_IDS = {"tv": 1, "mpeg": 1, "limited": 1, "pc": 2, "jpeg": 2, "full": 2}
# AVColorSpace -> swscale matrix name used by reformat().
_SWS_MATRIX = {1: "ITU709", 4: "FCC", 5: "ITU601", 6: "ITU601", 7: "SMPTE240M", 9: "BT2020", 10: "BT2020"}
_AVCOL_SPC_RGB = 0
_AVCOL_RANGE_JPEG = 2

_AUDIO_FALLBACK = {"mp4": "aac", "mov": "aac", "webm": "libopus", "matroska": "flac"}


# --------------------------------------------------------------------------------------------- paths


def is_frame_folder(destination: Path | str) -> bool:
    """True when ``destination`` names a PNG folder: a trailing '/', no suffix, or an existing directory
    whose suffix is not a video container's."""
    text = os.fspath(destination)
    if text.endswith(("/", os.sep)):
        return True
    path = Path(text)
    if path.suffix.lower() in CONTAINERS:
        return False
    return path.suffix == "" or path.is_dir()


def temp_path_for(destination: Path) -> Path:
    """The temporary file written before the final rename: ``dir/.<name>.part<ext>``."""
    return destination.with_name(f".{destination.name}.part{destination.suffix}")


def check_output(
    destination: Path | str,
    source: VideoInfo | None,
    *,
    overwrite: bool,
    encode: EncodeOptions | None = None,
    size: tuple[int, int] | None = None,
) -> None:
    """Fail early (before any decoding) with OutputError when ``destination`` cannot be written.

    Checks: same file as the source (refused even with ``overwrite``), already exists without
    ``overwrite``, parent folder missing or not writable, unsupported extension. With ``encode`` (and the
    output ``size`` as (width, height), default the source's) it also validates the codec and pix_fmt
    choice, raising UsageError / OutputError.
    """
    folder = is_frame_folder(destination)
    dest = Path(destination)
    if source is not None and _same_path(dest, Path(source.source)):
        raise OutputError(f"output {dest} is the input file; choose another output name (inputs are never overwritten)")
    if not folder and dest.suffix.lower() not in CONTAINERS:
        supported = " ".join(CONTAINERS)
        raise OutputError(
            f"output {dest}: unsupported extension {dest.suffix!r}; "
            f"use one of {supported} or a folder name for PNG frames"
        )
    _check_existing(dest, folder=folder, overwrite=overwrite)
    _check_parent(dest)
    if encode is not None and not folder and source is not None:
        width, height = size or (source.width, source.height)
        plan_encoding(dest, source, encode, width=width, height=height)


def _same_path(a: Path, b: Path) -> bool:
    """True when ``a`` and ``b`` are the same file (symlinks and relative paths resolved)."""
    try:
        if a.exists() and b.exists():
            return os.path.samefile(a, b)
        return a.resolve() == b.resolve()
    except OSError:
        return False


def _check_existing(dest: Path, *, folder: bool, overwrite: bool) -> None:
    if not (dest.exists() or dest.is_symlink()):
        return
    if folder:
        if not overwrite:
            raise OutputError(f"output {dest} exists; pass --overwrite or choose another name")
        return
    if dest.is_dir():
        raise OutputError(f"output {dest} is a directory; choose a file name such as {dest / 'restored.mp4'}")
    if not overwrite:
        raise OutputError(f"output {dest} exists; pass --overwrite or choose another name")


def _check_parent(dest: Path) -> None:
    parent = dest.absolute().parent
    if not parent.is_dir():
        raise OutputError(f"output {dest}: folder {parent} does not exist; create it first or choose another path")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"output {dest}: folder {parent} is not writable; choose another folder")


# --------------------------------------------------------------------------------------------- encoding plan


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


# --------------------------------------------------------------------------------------------- helpers


def _frac(value: Any) -> Fraction | None:
    """A Fraction from a Fraction/AVRational/None; None when unset (av 19 gives a falsy 0/1)."""
    if value is None or not value:
        return None
    return Fraction(int(value.numerator), int(value.denominator))


def _rescale(pts: int, src: Fraction, dst: Fraction) -> int:
    """``pts`` in ``src`` units to ``dst`` units, rounded to nearest (half up)."""
    return math.floor(Fraction(pts) * src / dst + Fraction(1, 2))


def _colour_ids(source: VideoInfo) -> tuple[int, int, int | None, int | None]:
    """(matrix, range, primaries, transfer) ids for the output; matrix/range are the effective ones.

    RGB sources (image folders, RGB video) have no YUV range to keep: they get limited ("tv") range, the
    common and most compatible choice, with the effective (height-guessed) matrix.
    """
    tags = source.color
    matrix = _MATRIX_IDS.get((tags.matrix_effective or "").lower())
    if matrix not in _SWS_MATRIX:
        log.info("no YUV matrix for source colour matrix %r; encoding with bt709", tags.matrix_effective)
        matrix = 1
    rng = 1 if _is_rgb(source.pix_fmt) else _RANGE_IDS.get((tags.range_effective or "tv").lower(), 1)
    primaries = _PRIMARIES_IDS.get(tags.primaries.lower()) if tags.primaries else None
    transfer = _TRC_IDS.get(tags.transfer.lower()) if tags.transfer else None
    return matrix, rng, primaries, transfer


def _is_rgb(pix_fmt: str) -> bool:
    try:
        return bool(av.VideoFormat(pix_fmt).is_rgb)
    except Exception:  # noqa: BLE001 - unknown names: treat as YUV
        return False


# swscale flag values (libswscale/swscale.h); av 17's Interpolation enum lacks the modifier flags.
_SWS_FLAGS = {"BICUBIC": 0x4, "FULL_CHR_H_INT": 0x2000, "ACCURATE_RND": 0x40000}


def _interpolation() -> int:
    """Bicubic scaling with accurate rounding and full chroma interpolation (swscale flags)."""
    interp = av.video.reformatter.Interpolation
    return int(sum(int(getattr(interp, name, value)) for name, value in _SWS_FLAGS.items()))


# --------------------------------------------------------------------------------------------- writers


class FrameWriter(Protocol):
    """What ``open_writer`` returns (a video file writer or a PNG-folder writer)."""

    frames_written: int

    def write(self, frame: Frame) -> None: ...

    def close(self) -> Any: ...

    def abort(self) -> None: ...

    def __enter__(self) -> FrameWriter: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...


@dataclass(frozen=True)
class WriteSummary:
    """What ``VideoWriter.close()`` produced."""

    path: Path
    frames: int
    codec: str
    pix_fmt: str
    streams: tuple[str, ...] = field(default_factory=tuple)  # e.g. ("audio#1 aac copied", "audio#2 pcm_s16le->aac")


def open_writer(
    destination: Path | str,
    source: VideoInfo,
    *,
    width: int,
    height: int,
    encode: EncodeOptions | None = None,
    overwrite: bool = False,
) -> FrameWriter:
    """Open a writer for ``destination`` (a video file, or a PNG folder when it has no suffix)."""
    encode = encode or EncodeOptions()
    dest = Path(destination)
    check_output(destination, source, overwrite=overwrite)
    if is_frame_folder(destination):
        from vrestore.io.frames import PngFolderWriter  # written in parallel; imported lazily

        return PngFolderWriter(dest, overwrite=overwrite)
    plan = plan_encoding(dest, source, encode, width=width, height=height)
    return VideoWriter(dest, source, plan, width=width, height=height, overwrite=overwrite)


class VideoWriter:
    """Encodes frames into ``.<name>.part<ext>``, copies the source's audio, renames on ``close()``."""

    def __init__(
        self, destination: Path, source: VideoInfo, plan: EncodePlan, *, width: int, height: int, overwrite: bool
    ) -> None:
        self.destination = destination
        self.temp_path = temp_path_for(destination)
        self.source = source
        self.plan = plan
        self.width = width
        self.height = height
        self.overwrite = overwrite
        self.frames_written = 0
        self._closed = False
        self._held: tuple[av.VideoFrame, int] | None = None  # frame waiting for its duration, and its index
        self._last_pts: int | None = None
        self._interp = _interpolation()
        self._time_base = self._choose_time_base(source)
        self._step = self._frame_step(source)
        self._matrix, self._range, self._primaries, self._transfer = _colour_ids(source)
        self._container: av.container.OutputContainer | None = None
        self._side: _SideStreams | None = None
        try:
            self._open()
        except BaseException:
            self.abort()
            raise

    # -- setup -----------------------------------------------------------------------------------

    @staticmethod
    def _choose_time_base(source: VideoInfo) -> Fraction:
        tb = _frac(source.time_base)
        if tb is not None:
            return tb
        rate = _frac(source.frame_rate) or Fraction(25)
        return 1 / rate

    def _frame_step(self, source: VideoInfo) -> int:
        """One frame interval in encoder time-base units (for frames without pts or duration)."""
        rate = _frac(source.frame_rate) or Fraction(25)
        return max(1, _rescale(1, 1 / rate, self._time_base))

    def _open(self) -> None:
        container_options: dict[str, str] = {}
        if self.plan.format_name in ("mp4", "mov"):
            container_options["movie_timescale"] = str(self._movie_timescale())
        try:
            self.temp_path.unlink(missing_ok=True)
            self._container = av.open(
                str(self.temp_path), "w", format=self.plan.format_name, container_options=container_options
            )
        except (OSError, av.FFmpegError) as exc:
            raise OutputError(f"cannot create {self.temp_path}: {exc}; check the folder is writable") from exc
        self._stream = self._add_video_stream()
        if self.source.kind == "video":
            self._side = _SideStreams(Path(self.source.source), self._container, self.plan.format_name)

    def _movie_timescale(self) -> int:
        den = self._time_base.denominator
        scale = 1000 * den // math.gcd(1000, den)
        return scale if scale <= 10_000_000 else den

    def _add_video_stream(self) -> av.video.stream.VideoStream:
        assert self._container is not None
        plan = self.plan
        try:
            stream = self._container.add_stream(plan.codec, options=dict(plan.options))
        except (ValueError, av.FFmpegError) as exc:
            raise OutputError(f"cannot store {plan.codec} video in {self.destination}: {exc}; try .mkv") from exc
        stream.width = self.width
        stream.height = self.height
        stream.pix_fmt = plan.pix_fmt
        ctx = stream.codec_context
        ctx.time_base = self._time_base
        rate = _frac(self.source.frame_rate)
        if rate is not None:
            ctx.framerate = rate
        ctx.flags |= int(av.codec.context.Flags.frame_duration)
        if plan.rgb:
            ctx.colorspace = _AVCOL_SPC_RGB
            ctx.color_range = _AVCOL_RANGE_JPEG
        else:
            ctx.colorspace = self._matrix
            ctx.color_range = self._range
        if self._primaries is not None:
            ctx.color_primaries = self._primaries
        if self._transfer is not None:
            ctx.color_trc = self._transfer
        if plan.codec == "libx265" and plan.format_name in ("mp4", "mov"):
            ctx.codec_tag = "hvc1"  # Apple players need hvc1 rather than hev1
        self._set_rotation(stream)
        return stream

    def _set_rotation(self, stream: av.video.stream.VideoStream) -> None:
        rotation = int(self.source.rotation or 0)
        if rotation % 360 == 0:
            return
        setter = getattr(stream, "set_display_rotation", None)
        if setter is None:
            log.warning(
                "this PyAV cannot write a display matrix: %s will not be rotated by %d degrees",
                self.destination,
                rotation,
            )
            return
        setter(rotation)

    # -- writing ---------------------------------------------------------------------------------

    def write(self, frame: Frame) -> None:
        """Encode one frame (RGB uint8/uint16 of the output size) at its source timestamp."""
        if self._closed:
            raise VrestoreError(f"writer for {self.destination} is closed")
        image = frame.image
        if image.ndim != 3 or image.shape[2] != 3 or image.shape[:2] != (self.height, self.width):
            raise VrestoreError(
                f"frame {frame.index} has shape {image.shape}; "
                f"the writer for {self.destination} expects ({self.height}, {self.width}, 3)"
            )
        pts = self._frame_pts(frame)
        vframe = self._to_video_frame(image)
        vframe.pts = pts
        vframe.time_base = self._time_base
        if frame.duration:
            tb = Fraction(frame.time_base) if frame.time_base is not None else self._time_base
            vframe.duration = max(1, _rescale(int(frame.duration), tb, self._time_base))
        self._release_held(next_pts=pts)
        self._held = (vframe, frame.index)
        self.frames_written += 1
        if self._side is not None:
            self._guarded(self._side.mux_until, pts * self._time_base + AUDIO_LEAD_S)

    def _frame_pts(self, frame: Frame) -> int:
        if frame.pts is None:
            pts = 0 if self._last_pts is None else self._last_pts + self._step
        else:
            tb = Fraction(frame.time_base) if frame.time_base is not None else self._time_base
            pts = _rescale(int(frame.pts), tb, self._time_base)
        if self._last_pts is not None and pts <= self._last_pts:
            raise InputError(
                f"frame {frame.index} of {self.destination}: timestamp {float(pts * self._time_base):.6f} s "
                f"does not come after the previous frame's {float(self._last_pts * self._time_base):.6f} s; "
                "frame timestamps must strictly increase "
                "(the input has duplicate or out-of-order timestamps)"
            )
        self._last_pts = pts
        return pts

    def _to_video_frame(self, image: np.ndarray) -> av.VideoFrame:
        image = np.ascontiguousarray(image)
        if image.dtype == np.uint8:
            vframe = av.VideoFrame.from_ndarray(image, format="rgb24")
        elif image.dtype == np.uint16:
            vframe = av.VideoFrame.from_ndarray(image, format="rgb48le")
        else:
            raise VrestoreError(f"frames must be uint8 or uint16 RGB, got {image.dtype}")
        if self.plan.rgb:
            return vframe.reformat(format=self.plan.pix_fmt, interpolation=self._interp)
        return vframe.reformat(
            format=self.plan.pix_fmt,
            dst_colorspace=_SWS_MATRIX[self._matrix],
            dst_color_range=self._range,
            interpolation=self._interp,
        )

    def _release_held(self, next_pts: int | None) -> None:
        """Encode the held frame, giving it a duration from the next frame's pts when it has none."""
        if self._held is None:
            return
        vframe, _index = self._held
        self._held = None
        if not vframe.duration:
            vframe.duration = (next_pts - vframe.pts) if next_pts is not None else self._step
        self._guarded(self._encode, vframe)

    def _encode(self, vframe: av.VideoFrame | None) -> None:
        assert self._container is not None
        for packet in self._stream.encode(vframe):
            self._container.mux(packet)

    def _guarded(self, fn: Any, *args: Any) -> None:
        """Run an encode/mux step; FFmpeg errors become OutputError naming the file."""
        try:
            fn(*args)
        except av.FFmpegError as exc:
            raise OutputError(f"writing {self.destination} failed: {exc}") from exc

    # -- finishing -------------------------------------------------------------------------------

    def close(self) -> WriteSummary:
        """Flush the encoder, mux the remaining audio, close the file and rename it onto the destination."""
        if self._closed:
            raise VrestoreError(f"writer for {self.destination} is already closed")
        try:
            self._release_held(next_pts=None)
            self._guarded(self._encode, None)
            if self._side is not None:
                self._guarded(self._side.mux_until, None)
            streams = self._side.describe() if self._side is not None else ()
            self._close_containers()
        except BaseException:
            self.abort()
            raise
        self._closed = True
        if not self.overwrite and (self.destination.exists() or self.destination.is_symlink()):
            self.abort()
            raise OutputError(
                f"output {self.destination} appeared while writing; pass --overwrite or choose another name"
            )
        try:
            os.replace(self.temp_path, self.destination)
        except OSError as exc:
            self.abort()
            raise OutputError(f"cannot rename {self.temp_path} to {self.destination}: {exc}") from exc
        return WriteSummary(self.destination, self.frames_written, self.plan.codec, self.plan.pix_fmt, streams)

    def _close_containers(self) -> None:
        if self._side is not None:
            side, self._side = self._side, None
            side.close()
        if self._container is not None:
            container, self._container = self._container, None
            try:
                container.close()
            except av.FFmpegError as exc:
                raise OutputError(f"finishing {self.temp_path} failed: {exc}") from exc

    def abort(self) -> None:
        """Stop writing: close everything and delete the temp file; the destination is untouched."""
        self._closed = True
        self._held = None
        for closer in (self._close_side_quietly, self._close_output_quietly):
            closer()
        try:
            self.temp_path.unlink(missing_ok=True)
        except OSError as exc:  # pragma: no cover - e.g. the folder vanished
            log.warning("could not remove %s: %s", self.temp_path, exc)

    def _close_side_quietly(self) -> None:
        side, self._side = self._side, None
        if side is not None:
            try:
                side.close()
            except Exception:  # noqa: BLE001 - best effort while aborting
                pass

    def _close_output_quietly(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception:  # noqa: BLE001 - best effort while aborting
                pass

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._closed:
            self.close()


# --------------------------------------------------------------------------------------------- audio, subtitles


class _Track:
    """One non-video source stream on its way to the output: copied, or re-encoded when it must be."""

    def __init__(self, in_stream: Any, out_stream: Any, *, transcode: bool) -> None:
        self.in_stream = in_stream
        self.out_stream = out_stream
        self.transcode = transcode

    def describe(self) -> str:
        src = self.in_stream.codec_context.name
        how = f"{src}->{self.out_stream.codec_context.name}" if self.transcode else f"{src} copied"
        return f"{self.in_stream.type}#{self.in_stream.index} {how}"

    def mux(self, output: Any, packet: Any) -> None:
        if not self.transcode:
            packet.stream = self.out_stream
            output.mux(packet)
            return
        for frame in self.in_stream.decode(packet):
            output.mux(self.out_stream.encode(frame))

    def flush(self, output: Any) -> None:
        if not self.transcode:
            return
        for frame in self.in_stream.decode(None):
            output.mux(self.out_stream.encode(frame))
        output.mux(self.out_stream.encode(None))


class _SideStreams:
    """Demuxes the source's audio/subtitle streams and muxes them into ``output`` paced by the video."""

    def __init__(self, source: Path, output: Any, format_name: str) -> None:
        try:
            self._input = av.open(str(source))
        except (OSError, av.FFmpegError) as exc:
            raise InputError(f"cannot open {source} to copy its audio: {exc}") from exc
        self._output = output
        self._tracks: dict[int, _Track] = {}
        self._pending: Any = None
        try:
            self._add_all(source, format_name)
        except BaseException:
            self._input.close()
            raise
        selected = [t.in_stream for t in self._tracks.values()]
        self._packets: Iterator[Any] = iter(self._input.demux(*selected)) if selected else iter(())

    def _add_all(self, source: Path, format_name: str) -> None:
        wanted = [s.index for s in self._input.streams if s.type in ("audio", "subtitle")]
        try:
            samples = _first_packets(source, wanted)
        except (OSError, av.FFmpegError) as exc:
            raise InputError(f"cannot read the audio of {source}: {exc}") from exc
        for stream in self._input.streams:
            track = self._add(stream, format_name, samples.get(stream.index))
            if track is not None:
                self._tracks[stream.index] = track

    def _add(self, stream: Any, format_name: str, sample: Any) -> _Track | None:
        if stream.type not in ("audio", "subtitle"):
            if stream.type != "video":
                log.info("not copying %s stream #%d of the source", stream.type, stream.index)
            return None
        if _can_copy(format_name, stream, sample):
            return _Track(stream, self._output.add_stream_from_template(stream), transcode=False)
        codec = stream.codec_context.name
        if stream.type == "subtitle":
            log.warning(
                "subtitle stream #%d (%s) cannot be stored in a %s file and is not copied; use .mkv to keep it",
                stream.index,
                codec,
                format_name,
            )
            return None
        return self._add_transcoded(stream, format_name)

    def _add_transcoded(self, stream: Any, format_name: str) -> _Track:
        target = _AUDIO_FALLBACK.get(format_name, "aac")
        codec = stream.codec_context.name
        try:
            ctx = stream.codec_context
            rate = 48000 if target == "libopus" else ctx.sample_rate
            layout = _named_layout(ctx.layout)
            out = self._output.add_stream(target, rate=rate, layout=layout)
            if target == "aac":
                out.codec_context.bit_rate = min(96_000 * max(1, ctx.layout.nb_channels), 512_000)
            out.codec_context.open()
        except Exception as exc:
            raise OutputError(
                f"audio stream #{stream.index} ({codec}) cannot be stored in a {format_name} file "
                f"and re-encoding it to {target} failed ({exc}); use .mkv"
            ) from exc
        log.warning(
            "audio stream #%d (%s) cannot be copied into a %s file; re-encoding it to %s",
            stream.index,
            codec,
            format_name,
            target,
        )
        return _Track(stream, out, transcode=True)

    def describe(self) -> tuple[str, ...]:
        return tuple(t.describe() for t in self._tracks.values())

    def mux_until(self, limit: Fraction | None) -> None:
        """Mux source packets whose time is <= ``limit`` seconds (all remaining when None)."""
        while True:
            packet = self._pending if self._pending is not None else next(self._packets, None)
            self._pending = None
            if packet is None:
                break
            if packet.size == 0:  # demux's flush packet; a packet with dts None is still real data
                continue
            when = _packet_time(packet)
            if limit is not None and when is not None and when > limit:
                self._pending = packet
                return
            self._tracks[packet.stream.index].mux(self._output, packet)
        if limit is None:
            for track in self._tracks.values():
                track.flush(self._output)

    def close(self) -> None:
        self._pending = None
        self._input.close()


_DEFAULT_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def _named_layout(layout: Any) -> str:
    """A layout name an encoder accepts: the source's, or the default one for its channel count."""
    name = str(layout.name)
    if not name.endswith("channels"):
        return name
    return _DEFAULT_LAYOUTS.get(int(layout.nb_channels), "stereo")


def _packet_time(packet: Any) -> Fraction | None:
    ts = packet.dts if packet.dts is not None else packet.pts
    tb = _frac(packet.time_base)
    if ts is None or tb is None:
        return None
    return ts * tb


def _can_copy(format_name: str, stream: Any, sample: Any) -> bool:
    """Whether ``format_name`` accepts a copy of ``stream``: header, one ``sample`` packet and trailer in memory.

    Some muxers only refuse at the trailer (mp4 with PCM of unknown channel layout), so all three are tried.
    """
    trial = av.open(io.BytesIO(), "w", format=format_name)
    try:
        out = trial.add_stream_from_template(stream)
        trial.start_encoding()
        if sample is not None:
            sample.stream = out
            trial.mux(sample)
        trial.close()
    except (ValueError, av.FFmpegError):
        try:
            trial.close()
        except Exception:  # noqa: BLE001 - the trial may have failed half-way
            pass
        return False
    return True


def _first_packets(source: Path, indexes: list[int]) -> dict[int, Any]:
    """The first non-empty packet of each stream in ``indexes`` (for copy trials), read from a separate handle."""
    found: dict[int, Any] = {}
    if not indexes:
        return found
    with av.open(str(source)) as container:
        streams = [container.streams[i] for i in indexes]
        for packet in container.demux(*streams):
            if packet.size and packet.stream.index not in found:
                found[packet.stream.index] = packet
                if len(found) == len(indexes):
                    break
    return found
