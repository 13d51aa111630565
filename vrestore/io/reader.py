"""Decode a source into RGB Frames: video files and y4m through PyAV, image sequences through OpenCV."""

from __future__ import annotations

import heapq
import logging
import os
from collections import deque
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import av
import av.container
import numpy as np
from av.video.reformatter import ColorRange, Colorspace, VideoReformatter

from vrestore.frame import Frame
from vrestore.io.colour import accurate_interpolation
from vrestore.io.frames import iter_frame_files, probe_frame_files
from vrestore.io.info import VideoInfo
from vrestore.io.probe import (
    info_from_container,
    is_rgb_format,
    no_frames_error,
    open_container,
    resolve_source,
    select_video_stream,
    stream_own_duration_s,
)
from vrestore.io.stdin import stdin_source
from vrestore.io.stdio import is_stdio
from vrestore.io.timestamps import Restamper

log = logging.getLogger("vrestore")

_SWS_MATRIX = {
    name: getattr(Colorspace, member)
    for name, member in {
        "bt709": "ITU709",
        "smpte170m": "ITU601",
        "bt470bg": "ITU601",
        "fcc": "FCC",
        "smpte240m": "SMPTE240M",
        "bt2020nc": "BT2020",
        "bt2020c": "BT2020",
    }.items()
    if hasattr(Colorspace, member)  # av 17 has no BT2020
}
_SWS_RANGE = {"tv": ColorRange.MPEG, "pc": ColorRange.JPEG}
# Bicubic chroma upsampling with accurate rounding: exact-as-possible RGB, the same for rgb24 and
# rgb48le (plain BILINEAR takes swscale's fast path, and BILINEAR|ACCURATE_RND|FULL_CHR_H_INT gave
# wrong rgb48le levels with FFmpeg 8).
# (av 17's Interpolation enum lacks the modifier flags, so colour.accurate_interpolation builds the value.)
_INTERPOLATION = accurate_interpolation()
_HDR_TRANSFERS = frozenset({"smpte2084", "arib-std-b67"})
# Frames held back to put timestamps in order (a few YUV frames of memory). Decoders output frames in
# presentation order, but containers without real pts (AVI with B-frames) label them out of order.
_REORDER_WINDOW = 8


class FrameReader:
    """Iterate a source's frames once, in presentation order; use as a context manager.

    ``info`` describes the source. Iterating yields :class:`vrestore.frame.Frame` with RGB images
    (uint8, or uint16 for sources deeper than 8 bits), ``index`` from 0 and the source timestamps: at
    least one frame, or InputError (``probe.no_frames_error``), so callers need no check of their own.
    Resources are released when iteration ends, is abandoned, or ``close()`` is called.
    """

    def __init__(self, info: VideoInfo) -> None:
        self.info = info
        self._iterated = False

    def __iter__(self) -> Iterator[Frame]:
        if self._iterated:
            raise RuntimeError("a FrameReader can be iterated only once; open a new one")
        self._iterated = True
        return self._frames()

    def _frames(self) -> Iterator[Frame]:
        raise NotImplementedError

    def close(self) -> None:
        """Release the source (idempotent)."""

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # interpreter shutdown: modules may already be gone
            pass


class ImageSequenceReader(FrameReader):
    """Frames from a naturally sorted list of image files: pts = index, time_base = 1/frame_rate."""

    def __init__(self, info: VideoInfo, files: Sequence[Path]) -> None:
        super().__init__(info)
        self._files = list(files)

    def _frames(self) -> Iterator[Frame]:
        yield from iter_frame_files(self.info, self._files)


class VideoFileReader(FrameReader):
    """Frames decoded by PyAV with threaded decoding and an explicit colour matrix and range."""

    def __init__(self, info: VideoInfo, container: av.container.InputContainer) -> None:
        super().__init__(info)
        self._container: av.container.InputContainer | None = container
        self._stream = select_video_stream(container, info.source)
        self._stream.thread_type = "AUTO"  # frame+slice threads; must be set before the first decode
        self._reformatter = VideoReformatter()
        self._convert_args = _conversion_args(info)
        self._error: Exception | None = None  # why decoding stopped early, if it did

    def close(self) -> None:
        container, self._container = getattr(self, "_container", None), None
        if container is not None:
            container.close()

    def _frames(self) -> Iterator[Frame]:
        try:
            yield from self._decode()
        finally:
            self.close()

    def _decode(self) -> Iterator[Frame]:
        if self._container is None:
            raise RuntimeError("the reader is closed")
        time_base = self.info.time_base  # the stream's, unless its broken timestamps are replaced
        sorter = _TimestampSorter(_REORDER_WINDOW)
        stamper = Restamper(self.info)
        count = 0
        end_s: float | None = None
        for decoded, av_frame in enumerate(self._decoded_frames(self._container)):
            for ready, pts in sorter.push(av_frame, self._source_pts(av_frame, decoded, time_base)):
                yield self._to_frame(ready, stamper.stamp(count, pts), count, time_base)
                count += 1
        for ready, pts in sorter.drain():
            frame = self._to_frame(ready, stamper.stamp(count, pts), count, time_base)
            end_s = _end_time_s(frame, self.info.frame_rate)
            yield frame
            count += 1
        if count == 0:  # the probe decoded a frame, so the source changed since (e.g. it was cut)
            raise no_frames_error(self.info.source, self._error)
        if self._error is not None or self._ends_early(end_s):
            _warn_truncated(self.info.source, count)

    def _decoded_frames(self, container: av.container.InputContainer) -> Iterator[Any]:
        """PyAV frames until the end, or until a decode/demux error (kept in ``self._error``)."""
        frames = container.decode(self._stream)  # flushes the decoder at the end: no lost tail
        while True:
            try:
                yield next(frames)
            except StopIteration:
                return
            except av.FFmpegError as exc:
                log.debug("decoding '%s' stopped: %s", self.info.source, exc)
                self._error = exc
                return

    def _source_pts(self, av_frame: Any, index: int, time_base: Fraction | None) -> int | None:
        """The frame's pts; else its dts; else a constant-rate guess."""
        if av_frame.pts is not None:
            return av_frame.pts
        if av_frame.dts is not None:
            return av_frame.dts
        rate = self.info.frame_rate
        if not rate or not time_base:
            return None
        return (self.info.start_pts or 0) + round(index / (rate * time_base))

    def _to_frame(
        self, av_frame: Any, timing: tuple[int | None, int | None], index: int, time_base: Fraction | None
    ) -> Frame:
        pts, duration = timing  # duration: set when the frame was re-timed
        rgb = self._reformatter.reformat(av_frame, **self._convert_args)
        # to_ndarray may return a view into PyAV's buffer; frames travel to other threads, so copy.
        image = np.array(rgb.to_ndarray(), order="C", copy=True)
        return Frame(
            image=image,
            pts=pts,
            time_base=time_base,
            index=index,
            is_key=bool(av_frame.key_frame),
            duration=duration or av_frame.duration or None,
        )

    def _ends_early(self, end_s: float | None) -> bool:
        """True when decoding stopped well before the duration the video stream declares."""
        declared = stream_own_duration_s(self._stream)
        start = self.info.start_pts or 0
        if declared is None or end_s is None or not self.info.time_base:
            return False
        start_s = float(start * self.info.time_base)
        frame_s = float(1 / self.info.frame_rate) if self.info.frame_rate else 0.04
        # Tolerate a few frames: muxers round durations and some formats pad or drop the last frames.
        return (start_s + declared) - end_s > max(0.5, 3 * frame_s)


def open_reader(
    source: str | os.PathLike[str], *, frame_rate: Fraction | None = None, info: VideoInfo | None = None
) -> FrameReader:
    """Open ``source`` (video file, .y4m, image folder, glob or single image) for decoding.

    ``frame_rate`` sets the rate of image sequences (default 25 fps); video files keep their own
    timestamps and ignore it. Raises InputError when the source cannot be read. ``-`` is stdin, which can be
    opened once (after ``probe("-")`` or not). ``info`` is ``probe(source)`` when the caller has it: the
    source is then opened only to decode, not probed (its first frame decoded) again.
    """
    if is_stdio(source):
        return _open_stdin()
    text, files = resolve_source(source)
    if files is not None:
        return ImageSequenceReader(info or probe_frame_files(text, files, frame_rate), files)
    if info is None:
        with open_container(text) as container:
            info = info_from_container(container, select_video_stream(container, text), text)
    _log_colour_decisions(info)
    container = open_container(text)
    try:
        return VideoFileReader(info, container)
    except BaseException:
        container.close()
        raise


def _open_stdin() -> FrameReader:
    stdin = stdin_source()
    info = stdin.probe()
    _log_colour_decisions(info)
    container = stdin.open_container()
    try:
        return VideoFileReader(info, container)
    except BaseException:
        container.close()
        raise


def _conversion_args(info: VideoInfo) -> dict[str, Any]:
    """reformat() arguments: RGB at the source's depth, from the effective matrix and range."""
    matrix = _SWS_MATRIX[info.color.matrix_effective]
    return {
        "format": "rgb48le" if info.high_bit_depth else "rgb24",
        "src_colorspace": matrix,
        "dst_colorspace": matrix,
        "src_color_range": _SWS_RANGE[info.color.range_effective],
        "dst_color_range": ColorRange.JPEG,
        "interpolation": _INTERPOLATION,
    }


def _log_colour_decisions(info: VideoInfo) -> None:
    color = info.color
    if color.matrix is None and not is_rgb_format(info.pix_fmt):
        log.info(
            "input '%s' has no colour matrix tag; assuming %s (%dp)", info.source, color.matrix_effective, info.height
        )
    elif color.matrix is not None and color.matrix != color.matrix_effective and not is_rgb_format(info.pix_fmt):
        log.warning(
            "input '%s' uses colour matrix '%s', which cannot be converted; decoding as %s (colours may be off)",
            info.source,
            color.matrix,
            color.matrix_effective,
        )
    if color.transfer in _HDR_TRANSFERS:
        log.warning(
            "input '%s' is HDR (%s); it is processed without tone mapping and its tags are kept",
            info.source,
            color.transfer,
        )


class _TimestampSorter:
    """Pair frames, in the order they arrive, with their timestamps in ascending order.

    A frame is released once ``window`` frames wait, with the smallest timestamp seen so far; for a
    well-formed stream this is the identity. Frames without a timestamp keep None.
    """

    def __init__(self, window: int) -> None:
        self._window = window
        self._frames: deque[Any] = deque()
        self._stamps: list[int] = []

    def push(self, frame: Any, pts: int | None) -> list[tuple[Any, int | None]]:
        """Add a frame; returns the frames (with timestamps) that can be released now."""
        self._frames.append(frame)
        if pts is not None:
            heapq.heappush(self._stamps, pts)
        return [self._pop()] if len(self._frames) > self._window else []

    def drain(self) -> list[tuple[Any, int | None]]:
        """Release everything still held (at the end of the stream)."""
        return [self._pop() for _ in range(len(self._frames))]

    def _pop(self) -> tuple[Any, int | None]:
        return self._frames.popleft(), heapq.heappop(self._stamps) if self._stamps else None


def _end_time_s(frame: Frame, rate: Fraction | None) -> float | None:
    """Presentation end of a frame in seconds (pts + duration, or + one frame at ``rate``)."""
    if frame.pts is None or not frame.time_base:
        return None
    if frame.duration:
        return float((frame.pts + frame.duration) * frame.time_base)
    return float(frame.pts * frame.time_base + (1 / rate if rate else 0))


def _warn_truncated(source: str, count: int) -> None:
    log.warning("input '%s' is truncated or corrupt after frame %d; the output stops there", source, count)
