"""Tests for io/stdin.py and io/pipe_writer.py: stdin read once without losing frames, y4m on a stream."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.helpers import mux_all
from vrestore.errors import InputError, PipeClosed, UsageError
from vrestore.frame import Frame
from vrestore.io.info import ColorTags, VideoInfo
from vrestore.io.pipe_writer import PipeWriter, pipe_pix_fmt
from vrestore.io.reader import VideoFileReader, open_reader
from vrestore.io.stdin import StdinSource
from vrestore.options import EncodeOptions


def write_y4m(path: Path, images: list[np.ndarray], pix_fmt: str, rate: Fraction = Fraction(25)) -> Path:
    """Encode RGB ``images`` (uint8, or uint16 for deep formats) as a y4m file."""
    height, width = images[0].shape[:2]
    rgb = "rgb48le" if images[0].dtype == np.uint16 else "rgb24"
    with av.open(str(path), "w", format="yuv4mpegpipe", options={"strict": "-1"}) as out:
        stream = out.add_stream("wrapped_avframe", rate=rate)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt

        def frames():
            for i, image in enumerate(images):
                frame = av.VideoFrame.from_ndarray(image, format=rgb).reformat(format=pix_fmt)
                frame.pts = i
                yield frame

        mux_all(out, stream, frames())
    return path


class Pipe(io.RawIOBase):
    """A stream that cannot seek and hands out at most ``chunk`` bytes a read, like a pipe."""

    def __init__(self, data: bytes, chunk: int = 4096) -> None:
        self._data = io.BytesIO(data)
        self._chunk = chunk

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._data.read(min(len(buffer), self._chunk))
        buffer[: len(data)] = data
        return len(data)


class ClosedPipe(io.RawIOBase):
    """A stdout whose reader has gone after ``limit`` bytes."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.left <= 0:
            raise BrokenPipeError(32, "Broken pipe")
        n = min(len(data), self.left)
        self.left -= n
        return n


def images(count: int, width: int = 64, height: int = 48, *, deep: bool = False) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    peak, dtype = (65536, np.uint16) if deep else (256, np.uint8)
    return [rng.integers(0, peak, (height, width, 3), dtype=dtype) for _ in range(count)]


@pytest.mark.parametrize("pix_fmt", ["yuv420p", "yuv420p10le"])
def test_stdin_probe_loses_no_frame(tmp_path: Path, pix_fmt: str) -> None:
    # 20 frames: more than the probe reads (timestamps.PROBE_PACKETS = 16), so the reader gets both
    # replayed and fresh bytes.
    clip = write_y4m(tmp_path / "in.y4m", images(20, deep=pix_fmt.endswith("le")), pix_fmt)
    stdin = StdinSource(Pipe(clip.read_bytes()))
    info = stdin.probe()
    assert (info.kind, info.width, info.height, info.pix_fmt) == ("stdin", 64, 48, pix_fmt)
    assert info.frame_rate == 25
    with VideoFileReader(info, stdin.open_container()) as reader:
        piped = [frame.image for frame in reader]
    with open_reader(clip) as reader:
        direct = [frame.image for frame in reader]
    assert len(piped) == len(direct) == 20
    assert all(np.array_equal(a, b) for a, b in zip(piped, direct, strict=True))


def test_stdin_is_read_once(tmp_path: Path) -> None:
    stdin = StdinSource(Pipe(write_y4m(tmp_path / "in.y4m", images(3), "yuv420p").read_bytes()))
    stdin.open_container().close()
    with pytest.raises(InputError, match="only once"):
        stdin.open_container()


def test_stdin_that_is_not_video_is_an_input_error() -> None:
    with pytest.raises(InputError, match="stdin cannot be opened as a video"):
        StdinSource(Pipe(b"hello, this is text\n" * 50)).probe()


def test_stdin_from_a_terminal_is_refused() -> None:
    class Terminal(Pipe):
        def isatty(self) -> bool:
            return True

    with pytest.raises(UsageError, match="stdin is a terminal"):
        StdinSource(Terminal(b"")).probe()


def info_for(pix_fmt: str, width: int = 64, height: int = 48, **extra) -> VideoInfo:
    depth = 10 if "10" in pix_fmt else 8
    return VideoInfo(source="x.y4m", kind="y4m", width=width, height=height, frame_rate=Fraction(30000, 1001),
                     pix_fmt=pix_fmt, bit_depth=depth, **extra)


@pytest.mark.parametrize(
    ("source", "size", "expected"),
    [
        ("yuv420p", (64, 48), "yuv420p"),
        ("yuv420p10le", (64, 48), "yuv420p10le"),
        ("yuv422p", (64, 48), "yuv422p"),
        ("yuvj420p", (64, 48), "yuv420p"),  # full range goes in XCOLORRANGE instead
        ("nv12", (64, 48), "yuv420p"),
        ("p010le", (64, 48), "yuv420p10le"),
        ("yuv420p", (63, 48), "yuv444p"),
        ("yuv420p10le", (64, 47), "yuv444p10le"),
    ],
)
def test_pipe_pixel_format(source: str, size: tuple[int, int], expected: str) -> None:
    assert pipe_pix_fmt(info_for(source), EncodeOptions(), width=size[0], height=size[1]) == expected


@pytest.mark.parametrize("encode", [EncodeOptions(codec="libx264"), EncodeOptions(crf=10),
                                    EncodeOptions(pix_fmt="nv12"), EncodeOptions(pix_fmt="yuv420p")])
def test_pipe_refuses_what_y4m_cannot_do(encode: EncodeOptions) -> None:
    with pytest.raises(UsageError):
        pipe_pix_fmt(info_for("yuv420p"), encode, width=63, height=48)


def test_pipe_writer_writes_a_y4m_stream_readers_take(tmp_path: Path) -> None:
    out = io.BytesIO()
    deep = images(4, deep=True)
    info = info_for("yuv420p10le", color=ColorTags(range="pc", range_effective="pc"))
    with PipeWriter(info, width=64, height=48, stream=out) as writer:
        for i, image in enumerate(deep):
            writer.write(Frame(image=image, pts=None, time_base=None, index=i))
    data = out.getvalue()
    header = data.split(b"\n", 1)[0].decode()
    assert header.startswith("YUV4MPEG2 W64 H48 F30000:1001")
    assert "C420p10" in header and "XCOLORRANGE=FULL" in header
    (tmp_path / "out.y4m").write_bytes(data)
    with av.open(str(tmp_path / "out.y4m")) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 4 and frames[0].format.name == "yuv420p10le"


def test_a_closed_pipe_raises_pipe_closed() -> None:
    writer = PipeWriter(info_for("yuv420p"), width=64, height=48, stream=ClosedPipe(limit=10_000))
    with pytest.raises(PipeClosed, match="closed the pipe"):
        for i, image in enumerate(images(50)):
            writer.write(Frame(image=image, pts=None, time_base=None, index=i))
        writer.close()
    writer.abort()  # must not raise again
