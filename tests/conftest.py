"""Fixtures shared by the whole test suite.

- ``_block_network`` (autouse): sockets may only connect to loopback, unless the test is marked ``network``.
- ``shared_data``: the real clips in ``../shared/data`` next to the repository; skips when absent.
- ``make_clip``: writes small synthetic videos with PyAV (lossless ffv1, x264, 10-bit, VFR, tags, audio);
  ``gradients`` gives its default test pattern.
- ``read_only_folder``: an empty folder nobody may write into (skips where the user can, as root can).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from tests.helpers import mux_all

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT / ".." / "shared" / "data"

# --------------------------------------------------------------------------------------------- network


class NetworkBlockedError(ConnectionError):
    """Raised by sockets in tests that are not marked ``network``."""


_LOOPBACK_NAMES = frozenset({"localhost", "::1"})


def _is_loopback(address: Any) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX paths and the like
        return True
    host = str(address[0])
    return host in _LOOPBACK_NAMES or host.startswith("127.")


@pytest.fixture(autouse=True)
def _block_network(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse non-loopback connections so that no test reaches the internet by accident."""
    if request.node.get_closest_marker("network"):
        return
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def check(address: Any) -> None:
        if not _is_loopback(address):
            raise NetworkBlockedError(f"network access to {address!r} is blocked in tests; mark the test 'network'")

    def connect(self: socket.socket, address: Any) -> None:
        check(address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


# ----------------------------------------------------------------------------------------- real data


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real clips and frames folder (``../shared/data`` beside the repo); skips the test when absent."""
    path = SHARED_DATA.resolve()
    if not path.is_dir():
        pytest.skip(f"real test data not found at {path} (expected the sibling folder ../shared/data of the repo)")
    return path


# ------------------------------------------------------------------------------------ synthetic clips


def gradient_images(count: int, width: int, height: int, *, deep: bool = False) -> list[np.ndarray]:
    """Smooth moving RGB gradients (uint8, or uint16 when ``deep``) that survive 4:2:0 coding well."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    peak = 65535 if deep else 255
    images = []
    for i in range(count):
        r = 0.1 + 0.7 * xx / max(width - 1, 1) + 0.1 * i / max(count, 1)
        g = 0.1 + 0.8 * yy / max(height - 1, 1)
        b = np.full_like(xx, 0.3 + 0.4 * i / max(count, 1))
        rgb = np.stack([r, g, b], axis=-1) * peak
        images.append(np.round(rgb).astype(np.uint16 if deep else np.uint8))
    return images


_SWS_MATRIX = {"bt709": "ITU709", "smpte170m": "ITU601", "bt470bg": "ITU601", "bt2020nc": "BT2020"}
_AV_MATRIX = {"bt709": 1, "bt470bg": 5, "smpte170m": 6, "bt2020nc": 9}
_AV_PRIMARIES = {"bt709": 1, "bt470bg": 5, "smpte170m": 6, "bt2020": 9}
_AV_TRANSFER = {"bt709": 1, "smpte170m": 6, "smpte2084": 16}
_AV_RANGE = {"tv": 1, "pc": 2}


def write_clip(
    path: Path,
    images: Sequence[np.ndarray],
    *,
    codec: str = "ffv1",
    pix_fmt: str = "yuv420p",
    rate: Fraction = Fraction(25),
    pts: Sequence[int] | None = None,
    time_base: Fraction | None = None,
    matrix: str | None = None,
    full_range: bool | None = None,
    tags: dict[str, str] | None = None,
    audio: bool = False,
    rotation: int | None = None,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
) -> Path:
    """Encode RGB ``images`` (uint8 or uint16) into ``path``.

    ``tags`` sets the stream's colour tags by FFmpeg name ({"matrix": "bt709", "range": "tv", "primaries": ...,
    "transfer": ...}); without it the file is untagged. RGB -> YUV uses ``matrix``/``full_range`` explicitly
    (never PyAV's untagged default); by default the tagged ones, else what a reader assumes for an untagged
    file (bt709 from 720 lines up, else smpte170m; limited range). ``pts`` with ``time_base`` writes exact
    (e.g. irregular) timestamps.
    """
    height, width = images[0].shape[:2]
    tags = tags or {}
    matrix = matrix or tags.get("matrix") or ("bt709" if height >= 720 else "smpte170m")
    full_range = tags.get("range") == "pc" if full_range is None else full_range
    src_format = "rgb48le" if images[0].dtype == np.uint16 else "rgb24"
    with av.open(str(path), "w", options=container_options or {}) as out:
        video = out.add_stream(codec, rate=rate, options=options or {})
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        if time_base is not None:
            video.time_base = time_base
            video.codec_context.time_base = time_base
        _set_tags(video.codec_context, tags)
        if rotation is not None:
            video.set_display_rotation(rotation)
        sound = _add_audio(out) if audio else None

        def frames() -> Iterator[Any]:
            for i, image in enumerate(images):
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format=src_format)
                frame = frame.reformat(
                    format=pix_fmt,
                    src_colorspace=_SWS_MATRIX[matrix],
                    dst_colorspace=_SWS_MATRIX[matrix],
                    src_color_range="JPEG",
                    dst_color_range="JPEG" if full_range else "MPEG",
                    interpolation="BICUBIC",
                )
                if pts is not None:
                    frame.pts, frame.time_base = pts[i], time_base
                else:
                    frame.pts, frame.time_base = i, 1 / Fraction(rate)
                yield frame

        mux_all(out, video, frames())
        if sound is not None:
            _write_audio(out, sound, seconds=len(images) / float(rate))
    return path


def _set_tags(cc: Any, tags: dict[str, str]) -> None:
    if "matrix" in tags:
        cc.colorspace = _AV_MATRIX[tags["matrix"]]
    if "range" in tags:
        cc.color_range = _AV_RANGE[tags["range"]]
    if "primaries" in tags:
        cc.color_primaries = _AV_PRIMARIES[tags["primaries"]]
    if "transfer" in tags:
        cc.color_trc = _AV_TRANSFER[tags["transfer"]]


def _add_audio(out: Any) -> Any:
    stream = out.add_stream("aac", rate=48000)
    stream.layout = "mono"
    return stream


def _write_audio(out: Any, stream: Any, seconds: float) -> None:
    """A 440 Hz tone muxed after the video (fine for tests; real writers interleave)."""
    samples_per_frame = stream.codec_context.frame_size or 1024
    total = int(seconds * 48000)

    def tone() -> Iterator[Any]:
        for start in range(0, total, samples_per_frame):
            t = (np.arange(start, start + samples_per_frame) / 48000.0).astype(np.float32)
            block = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout="mono")
            frame.sample_rate, frame.pts = 48000, start
            yield frame

    mux_all(out, stream, tone())


@pytest.fixture()
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/locked``, empty and read-only (0o500) for the test; skips where the user can still write into it."""
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write into read-only folders (root)")
        yield locked
    finally:
        locked.chmod(0o700)


@pytest.fixture()
def gradients() -> Callable[..., list[np.ndarray]]:
    """``gradients(count, width, height, deep=False)``: the test pattern ``make_clip`` encodes by default."""
    return gradient_images


@pytest.fixture()
def make_clip(tmp_path: Path) -> Callable[..., Path]:
    """Factory: ``make_clip(name, images=None, count=6, size=(W, H), deep=False, **write_clip_options)``.

    Without ``images`` it encodes ``count`` gradient frames of ``size`` (uint16 when ``deep``).
    """

    def make(
        name: str = "clip.mkv",
        images: Sequence[np.ndarray] | None = None,
        *,
        count: int = 6,
        size: tuple[int, int] = (64, 48),
        deep: bool = False,
        **options: Any,
    ) -> Path:
        if images is None:
            images = gradient_images(count, *size, deep=deep)
        return write_clip(tmp_path / name, images, **options)

    return make
