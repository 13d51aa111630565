"""Write restored frames to a video file: encode with the source timing and colour, copy audio, rename at the end.

Design (see ARCHITECTURE.md, io/writer.py and specs/video-io-and-peers.md section 4):

* **Temp file**: the output is written to ``.<name>.part<ext>`` in the destination folder (hidden, same
  filesystem, real extension last), e.g. ``out.mp4`` -> ``.out.mp4.part.mp4``. ``close()`` renames it onto
  the destination with ``os.replace`` (atomic); ``abort()`` deletes it. The destination is never touched
  before a successful ``close()``. ``keep_partial()`` instead finishes the temp file as a valid container
  of the frames written so far and keeps it (``restore --resume``); ``temp_path`` names another temp file.
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
* **stdout**: ``-`` as the destination gets a y4m stream from ``io/pipe_writer.py`` (no temp file, no audio).
* **Rotation**: frames are expected in coded (stored) orientation, as decoded; the source display matrix
  is written on the output stream so players show it upright like the input.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

import av
import numpy as np

from vrestore.errors import OutputError, VrestoreError
from vrestore.frame import Frame
from vrestore.io.closing import CloseOnSuccess
from vrestore.io.colour import AVCOL_RANGE_JPEG, AVCOL_SPC_RGB, SWS_MATRIX, accurate_interpolation, colour_ids
from vrestore.io.encode_plan import EncodePlan
from vrestore.io.info import VideoInfo
from vrestore.io.output_check import OutputTarget, check_output, is_frame_folder, temp_path_for
from vrestore.io.pipe_writer import PipeWriter
from vrestore.io.probe import rational
from vrestore.io.remux import SideStreams
from vrestore.io.stdio import is_stdio
from vrestore.io.timing import FrameClock
from vrestore.options import EncodeOptions

__all__ = ["FrameWriter", "VideoWriter", "WriteSummary", "open_checked", "open_writer"]

log = logging.getLogger("vrestore")

#: How far (seconds) copied audio may run ahead of the last video frame written.
AUDIO_LEAD_S = Fraction(1, 2)


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
    temp_path: Path | None = None,
) -> FrameWriter:
    """Open a writer for ``destination`` (a video file, a PNG folder when it has no suffix, ``-`` for stdout).

    ``temp_path`` replaces the default temp file ``.<name>.part<ext>`` of a video file.
    """
    target = check_output(destination, source, overwrite=overwrite, encode=encode or EncodeOptions(),
                          size=(width, height))
    return open_checked(target, source, overwrite=overwrite, temp_path=temp_path)


def open_checked(
    target: OutputTarget, source: VideoInfo, *, overwrite: bool = False, temp_path: Path | None = None
) -> FrameWriter:
    """Open the writer for a destination ``check_output`` has passed, with the encode options it was given.

    Nothing is checked again (a video file that appears meanwhile is still refused at ``close()``).
    """
    if is_stdio(target.destination):
        return PipeWriter(source, width=target.width, height=target.height, pix_fmt=target.pix_fmt)
    dest = Path(target.destination)
    if is_frame_folder(dest):
        from vrestore.io.frames import PngFolderWriter  # written in parallel; imported lazily

        return PngFolderWriter(dest, overwrite=overwrite)
    if target.plan is None:
        raise ValueError(f"{dest} was checked without the source and encode options; it has no encoding plan")
    return VideoWriter(dest, source, target.plan, width=target.width, height=target.height, overwrite=overwrite,
                       temp_path=temp_path)


class VideoWriter(CloseOnSuccess):
    """Encodes frames into ``.<name>.part<ext>``, copies the source's audio, renames on ``close()``."""

    def __init__(
        self,
        destination: Path,
        source: VideoInfo,
        plan: EncodePlan,
        *,
        width: int,
        height: int,
        overwrite: bool,
        temp_path: Path | None = None,
    ) -> None:
        self.destination = destination
        self.temp_path = temp_path if temp_path is not None else temp_path_for(destination)
        self.source = source
        self.plan = plan
        self.width = width
        self.height = height
        self.overwrite = overwrite
        self.frames_written = 0
        self._closed = False
        self._kept = False
        # write() runs on the encode thread; keep_partial() on the caller's after an interrupt.
        self._lock = threading.Lock()
        self._held: tuple[av.VideoFrame, int] | None = None  # frame waiting for its duration, and its index
        self._interp = accurate_interpolation()
        self._clock = FrameClock(source, destination)
        self._matrix, self._range, self._primaries, self._transfer = colour_ids(source)
        self._container: av.container.OutputContainer | None = None
        self._side: SideStreams | None = None
        try:
            self._open()
        except BaseException:
            self.abort()
            raise

    # -- setup -----------------------------------------------------------------------------------

    def _open(self) -> None:
        # bitexact: no random Matroska UIDs or version strings, so the same input gives the same bytes.
        container_options: dict[str, str] = {"fflags": "+bitexact"}
        if self.plan.format_name in ("mp4", "mov"):
            container_options["movie_timescale"] = str(self._clock.movie_timescale())
        try:
            self.temp_path.unlink(missing_ok=True)
            self._container = av.open(
                str(self.temp_path), "w", format=self.plan.format_name, container_options=container_options
            )
        except (OSError, av.FFmpegError) as exc:
            raise OutputError(f"cannot create {self.temp_path}: {exc}; check the folder is writable") from exc
        self._stream = self._add_video_stream()
        if self.source.kind == "video":
            self._side = SideStreams(Path(self.source.source), self._container, self.plan.format_name)

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
        ctx.time_base = self._clock.time_base
        rate = rational(self.source.frame_rate)
        if rate is not None:
            ctx.framerate = rate
        ctx.flags |= int(av.codec.context.Flags.frame_duration)
        if plan.rgb:
            ctx.colorspace = AVCOL_SPC_RGB
            ctx.color_range = AVCOL_RANGE_JPEG
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
        with self._lock:
            self._write(frame)

    def _write(self, frame: Frame) -> None:
        if self._closed:
            raise VrestoreError(f"writer for {self.destination} is closed")
        image = frame.image
        if image.ndim != 3 or image.shape[2] != 3 or image.shape[:2] != (self.height, self.width):
            raise VrestoreError(
                f"frame {frame.index} has shape {image.shape}; "
                f"the writer for {self.destination} expects ({self.height}, {self.width}, 3)"
            )
        pts = self._clock.next_pts(frame)
        vframe = self._to_video_frame(image)
        vframe.pts = pts
        vframe.time_base = self._clock.time_base
        duration = self._clock.duration(frame)
        if duration is not None:
            vframe.duration = duration
        self._release_held(next_pts=pts)
        self._held = (vframe, frame.index)
        self.frames_written += 1
        if self._side is not None:
            self._guarded(self._side.mux_until, pts * self._clock.time_base + AUDIO_LEAD_S)

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
            dst_colorspace=SWS_MATRIX[self._matrix],
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
            vframe.duration = (next_pts - vframe.pts) if next_pts is not None else self._clock.step
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

    def keep_partial(self) -> int:
        """Finish the temp file as a valid container of the frames written so far and keep it there.

        Returns how many frames it holds (0 when nothing could be kept: the temp file is then removed).
        Audio is muxed only as far as the video. The destination is not touched.
        """
        with self._lock:
            if self._closed:
                return 0
            try:
                self._release_held(next_pts=None)
                self._guarded(self._encode, None)
                self._close_containers()
            except Exception as exc:  # noqa: BLE001 - nothing usable to keep; abort() removes it
                log.warning("could not finish the partial output %s: %s", self.temp_path, exc)
                self.abort()
                return 0
            self._closed = True
            if self.frames_written == 0:
                self.abort()
                return 0
            self._kept = True
            return self.frames_written

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
        """Stop writing: close everything and delete the temp file (unless kept); the destination is untouched."""
        self._closed = True
        if self._kept:
            return
        self._held = None
        side, self._side = self._side, None
        _close_quietly(side)
        container, self._container = self._container, None
        _close_quietly(container)
        try:
            self.temp_path.unlink(missing_ok=True)
        except OSError as exc:  # pragma: no cover - e.g. the folder vanished
            log.warning("could not remove %s: %s", self.temp_path, exc)



def _close_quietly(closable: SideStreams | av.container.OutputContainer | None) -> None:
    """Close ``closable`` (if any) ignoring errors: best effort while aborting."""
    if closable is None:
        return
    try:
        closable.close()
    except Exception:  # noqa: BLE001 - best effort while aborting
        pass
