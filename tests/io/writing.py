"""Helpers of the writer tests (test_writer, test_timing, test_remux, test_encode_plan): frames, sources, read-back."""

from __future__ import annotations

import itertools
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from vrestore.frame import Frame
from vrestore.io.info import VideoInfo
from vrestore.io.writer import open_writer
from vrestore.options import EncodeOptions

CLIPS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "clips"
FAST = EncodeOptions(preset="ultrafast")
SWS = {"bt709": "ITU709", "smpte170m": "ITU601"}


# --------------------------------------------------------------------------------------------- helpers


def as_fraction(value: Any) -> Fraction:
    """Fraction from a PyAV rational (Fraction on av 18, AVRational on av 19)."""
    return Fraction(int(value.numerator), int(value.denominator))


def frames_info(width: int = 64, height: int = 48, **overrides: Any) -> VideoInfo:
    """A source description that needs no file (kind 'frames': nothing to demux)."""
    values: dict[str, Any] = dict(
        source="frames/",
        kind="frames",
        width=width,
        height=height,
        time_base=Fraction(1, 1000),
        frame_rate=Fraction(25),
        start_pts=0,
        pix_fmt="rgb24",
    )
    values.update(overrides)
    return VideoInfo(**values)


def random_images(count: int, width: int, height: int, *, deep: bool = False, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    dtype, peak = (np.uint16, 65536) if deep else (np.uint8, 256)
    return [rng.integers(0, peak, size=(height, width, 3), dtype=dtype) for _ in range(count)]


def smooth_images(count: int, width: int, height: int, *, deep: bool = False) -> list[np.ndarray]:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    peak = 65535 if deep else 255
    out = []
    for i in range(count):
        rgb = np.stack([0.1 + 0.7 * xx / width, 0.1 + 0.8 * yy / height, np.full_like(xx, 0.3 + 0.05 * i)], -1)
        out.append(np.round(rgb * peak).astype(np.uint16 if deep else np.uint8))
    return out


def write_all(dest: Path, info: VideoInfo, frames: list[Frame], encode: EncodeOptions = FAST, **kw: Any) -> Any:
    height, width = frames[0].image.shape[:2]
    with open_writer(dest, info, width=width, height=height, encode=encode, **kw) as writer:
        for frame in frames:
            writer.write(frame)
        summary = writer.close()
    assert writer.frames_written == len(frames)
    return summary


def cfr_frames(images: list[np.ndarray], step: int = 40, tb: Fraction = Fraction(1, 1000)) -> list[Frame]:
    return [Frame(img, i * step, tb, i) for i, img in enumerate(images)]


def read_video(path: Path, fmt: str = "rgb24", matrix: str | None = None) -> tuple[list[np.ndarray], list[float], Any]:
    """Decoded images, presentation times in seconds (sorted) and (pix_fmt, colour ids, w, h) of ``path``."""
    images, times = [], []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        cc = stream.codec_context
        meta = dict(
            pix_fmt=cc.pix_fmt,
            colorspace=int(cc.colorspace),
            color_range=int(cc.color_range),
            primaries=int(cc.color_primaries),
            trc=int(cc.color_trc),
            width=stream.width,
            height=stream.height,
        )
        for frame in container.decode(stream):
            kwargs: dict[str, Any] = {"format": fmt}
            if matrix:
                kwargs.update(src_colorspace=SWS[matrix], src_color_range="MPEG")
            images.append(frame.to_ndarray(**kwargs))
            times.append(float(frame.pts * as_fraction(frame.time_base)))
            meta["rotation"] = frame.rotation
    return images, sorted(times), meta


def audio_packets(path: Path) -> list[tuple[bytes, float]]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return [(bytes(p), float(p.pts * as_fraction(p.time_base))) for p in container.demux(stream) if p.size]


def audio_codec(path: Path) -> str | None:
    with av.open(str(path)) as container:
        return container.streams.audio[0].codec_context.name if container.streams.audio else None


def decode_source(path: Path, width: int, height: int, limit: int | None = None) -> list[Frame]:
    """Frames of a real clip, downscaled (speed), with its pts in display order (as a reader must give them)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = list(itertools.islice(container.decode(stream), limit))
        tb = as_fraction(stream.time_base)
    pts = sorted(f.pts for f in decoded)  # some files (the AVI) label frames in decode order
    return [
        Frame(f.to_ndarray(format="rgb24", width=width, height=height), pts[i], tb, i) for i, f in enumerate(decoded)
    ]


def clip(name: str) -> Path:
    path = CLIPS / name
    if not path.is_file():
        pytest.skip(f"real clip {path} not found (expected the sibling folder ../shared/data of the repo)")
    return path
