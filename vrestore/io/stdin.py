"""Read a video from stdin, which can be read only once and cannot seek.

Probing a source and then decoding it opens it twice (``probe.info_from_container`` decodes the first
frames for colour tags and timestamps). For stdin the bytes the probe reads are recorded, and the reader's
container gets them again before the rest of the pipe: no frame is lost and any format PyAV can demux from a
pipe works (y4m, nut, matroska...). The record holds what the probe read (FFmpeg's probe buffer and about
``timestamps.PROBE_PACKETS`` packets) and is freed as the reader passes it.

Streams other than the video cannot be copied from a pipe (the writer copies them by reopening the source),
so they are dropped with a warning; stdin sources have ``kind`` "stdin".
"""

from __future__ import annotations

import dataclasses
import io
import logging
import sys
from typing import BinaryIO

import av
import av.container

from vrestore.errors import InputError, UsageError
from vrestore.io.info import VideoInfo
from vrestore.io.probe import info_from_container, select_video_stream
from vrestore.io.stdio import STDIN_NAME

log = logging.getLogger("vrestore")


class _Tape(io.RawIOBase):
    """A non-seekable reader over ``stream`` that either records what it reads or replays a record first."""

    def __init__(self, stream: BinaryIO, record: bytearray | None, *, replay: bytes = b"") -> None:
        self._stream = stream
        self._record = record
        self._replay = memoryview(replay)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._replay.nbytes:
            n = min(len(buffer), self._replay.nbytes)
            buffer[:n] = self._replay[:n]
            self._replay = self._replay[n:]
            return n
        data = self._stream.read(len(buffer))
        if self._record is not None:
            self._record += data
        buffer[: len(data)] = data
        return len(data)


class StdinSource:
    """stdin as a video source: ``probe()`` once, then ``open_container()`` for the reader."""

    def __init__(self, stream: BinaryIO | None = None) -> None:
        self._stream = stream if stream is not None else sys.stdin.buffer
        self._record: bytearray | None = None
        self._info: VideoInfo | None = None
        self._opened = False

    def probe(self) -> VideoInfo:
        """Describe the piped video (reads and records its first packets; later calls return the same)."""
        if self._info is not None:
            return self._info
        if _is_terminal(self._stream):
            raise UsageError("input '-' reads a video from stdin, but stdin is a terminal; pipe one in, e.g. "
                             "ffmpeg -i in.mp4 -f yuv4mpegpipe - | vrestore restore - out.mkv")
        self._record = bytearray()
        with _open(_Tape(self._stream, self._record)) as container:
            info = info_from_container(container, select_video_stream(container, STDIN_NAME), STDIN_NAME)
        dropped = [s for s in info.streams if s.kind in ("audio", "subtitle")]
        if dropped:
            log.warning("%d audio/subtitle stream(s) of stdin are not kept: only the video is read from a pipe",
                        len(dropped))
        self._info = dataclasses.replace(info, kind="stdin")
        return self._info

    def open_container(self) -> av.container.InputContainer:
        """The container the reader decodes: the recorded bytes again, then the rest of stdin (once only)."""
        if self._info is None:
            self.probe()
        if self._opened:
            raise InputError("stdin has already been read; a piped input can be restored only once")
        self._opened = True
        record, self._record = bytes(self._record or b""), None
        return _open(_Tape(self._stream, None, replay=record))


def _open(tape: _Tape) -> av.container.InputContainer:
    try:
        return av.open(tape, mode="r")
    except (av.FFmpegError, OSError, ValueError) as exc:
        reason = " ".join(str(getattr(exc, "strerror", None) or exc).split())
        raise InputError(f"stdin cannot be opened as a video ({reason}); pipe a video stream in, e.g. "
                         "ffmpeg -i in.mp4 -f yuv4mpegpipe -") from None


def _is_terminal(stream: BinaryIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


_stdin: StdinSource | None = None


def stdin_source() -> StdinSource:
    """The process's stdin source (one, since stdin can be read only once)."""
    global _stdin
    if _stdin is None:
        _stdin = StdinSource()
    return _stdin
