"""The bad-input corpus, generated on the fly (no binary blobs): each case writes its input under a folder."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from tests.helpers import make_video, mux_all


def empty(folder: Path) -> Path:
    path = folder / "empty.mp4"
    path.write_bytes(b"")
    return path


def random_bytes(folder: Path) -> Path:
    path = folder / "random.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    return path


def truncated_mp4(folder: Path) -> Path:
    full = make_video(folder / "full.mp4", frames=24)
    path = folder / "truncated.mp4"
    path.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    full.unlink()
    return path


def audio_only(folder: Path) -> Path:
    path = folder / "audio only.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=48000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), np.float32), format="fltp", layout="mono")
        frame.sample_rate = 48000

        def blocks():
            for i in range(10):
                frame.pts = i * 1024
                yield frame

        mux_all(out, stream, blocks())
    return path


def zero_frames(folder: Path) -> Path:
    path = folder / "zero.mkv"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=Fraction(24))
        stream.width, stream.height, stream.pix_fmt = 32, 32, "bgr0"
        out.start_encoding()  # writes the header: a valid file with a video stream and no frame
    return path


def tiny_1x1(folder: Path) -> Path:
    return _ffv1(folder / "one.mkv", 1, 1)


def wide_4097x17(folder: Path) -> Path:
    return _ffv1(folder / "wide.mkv", 4097, 17)


def broken_frame(folder: Path) -> Path:
    full = make_video(folder / "whole.mkv", frames=48)
    data = bytearray(full.read_bytes())
    middle = len(data) * 6 // 10
    data[middle: middle + 300] = bytes(300)  # zeroed packet bytes mid-stream; headers stay intact
    path = folder / "broken.mkv"
    path.write_bytes(bytes(data))
    full.unlink()
    return path


def mixed_size_frames(folder: Path) -> Path:
    frames = folder / "mixed"
    frames.mkdir()
    for i, (w, h) in enumerate([(32, 32), (32, 32), (48, 32)]):
        with av.open(str(frames / f"{i:03d}.png"), "w", format="image2") as out:
            stream = out.add_stream("png", rate=Fraction(1))
            stream.width, stream.height, stream.pix_fmt = w, h, "rgb24"
            mux_all(out, stream, [av.VideoFrame.from_ndarray(np.zeros((h, w, 3), np.uint8), format="rgb24")])
    return frames


def text_as_mp4(folder: Path) -> Path:
    path = folder / "notes.mp4"
    path.write_text("not a video\n" * 40)
    return path


def _ffv1(path: Path, width: int, height: int, frames: int = 3) -> Path:
    with av.open(str(path), "w") as out:
        stream = out.add_stream("ffv1", rate=Fraction(24))
        stream.width, stream.height, stream.pix_fmt = width, height, "bgr0"
        mux_all(out, stream, (av.VideoFrame.from_ndarray(np.full((height, width, 3), 40 * i, np.uint8), format="rgb24")
                              for i in range(frames)))
    return path


CASES: dict[str, Callable[[Path], Path]] = {
    "empty": empty,
    "random-bytes": random_bytes,
    "text-as-mp4": text_as_mp4,
    "truncated-mp4": truncated_mp4,
    "audio-only": audio_only,
    "zero-frames": zero_frames,
    "1x1": tiny_1x1,
    "4097x17": wide_4097x17,
    "broken-frame": broken_frame,
    "mixed-size-frames": mixed_size_frames,
}
