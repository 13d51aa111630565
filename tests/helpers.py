"""Helpers shared by the CLI and end-to-end tests (not fixtures: import them)."""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def run_subprocess(*args: str, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    """Run ``python -m vrestore ARGS`` as a separate process (what shell scripts see)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, "-m", "vrestore", *map(str, args)],
        capture_output=True, text=True, timeout=timeout, env=env, **kwargs,
    )


def mux_all(out, stream, frames) -> None:
    """Encode each of ``frames`` (PyAV frames, any iterable) into ``stream`` of ``out``, flush, mux every packet."""
    for frame in frames:
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


def make_video(path: Path, frames: int = 12, size: tuple[int, int] = (64, 48), rate: int = 24) -> Path:
    """Write a small H.264 clip of moving gradients."""
    w, h = size
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(rate, 1))
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        yy, xx = np.mgrid[0:h, 0:w]
        images = (np.stack([(xx * 4 + i * 8) % 256, (yy * 4) % 256, np.full_like(xx, 128)], -1).astype(np.uint8)
                  for i in range(frames))
        mux_all(out, stream, (av.VideoFrame.from_ndarray(img, format="rgb24") for img in images))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def leftovers(folder: Path, keep: set[str] = frozenset()) -> list[str]:
    """Names in ``folder`` other than ``keep`` (temporary or partial outputs)."""
    return sorted(p.name for p in Path(folder).iterdir() if p.name not in keep)


def real_frames(path: Path, count: int, start: int = 0, crop: tuple[int, int] | None = None) -> list:
    """The decoded frames ``start .. start+count-1`` of a video (renumbered from 0), optionally cropped to
    the top-left ``crop`` = (height, width)."""
    from vrestore.io.reader import open_reader

    frames = []
    with open_reader(path) as reader:
        for frame in reader:
            if frame.index >= start:
                image = frame.image if crop is None else np.ascontiguousarray(frame.image[: crop[0], : crop[1]])
                frames.append(frame.with_image(image))
            if len(frames) == count:
                break
    for i, frame in enumerate(frames):
        frame.index = i
    return frames


def assert_one_line_error(result, code: int, *fragments: str) -> None:
    """A CLI result failed with ``code`` and exactly one stderr line, ``error: ...``, holding each fragment."""
    assert result.code == code, (result.code, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def assert_one_line_message(excinfo, *needles: str) -> None:
    """A raised error (``pytest.raises``'s ExceptionInfo) whose message is one line holding each needle.

    The library-level twin of :func:`assert_one_line_error`, which checks what the CLI prints.
    """
    message = str(excinfo.value)
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, (needle, message)


def noisy_gradient_frames(folder: Path, levels: list[float], offset: float = 50.0, slope: float = 120.0) -> Path:
    """PNG frames 160x120 of a smooth gradient, frame i with seeded Gaussian noise of ``levels[i]`` (0-255)."""
    import cv2

    folder.mkdir()
    y, x = np.mgrid[0:120, 0:160]
    base = (offset + slope * x / 160 + 40 * y / 120)[:, :, None].repeat(3, axis=2)
    for i, level in enumerate(levels):
        image = np.clip(base + np.random.default_rng(i).normal(0, level, base.shape), 0, 255).round()
        cv2.imwrite(str(folder / f"{i:03d}.png"), image.astype(np.uint8))
    return folder


def random_window(rng: random.Random, max_length: int = 24, nones: int = 1) -> tuple[int, int, int | None]:
    """A random (clip length, overlap, key-frame interval) for the window-planning sweeps.

    The interval is None with weight ``nones`` against one drawn value that fits the window step.
    """
    length = rng.randint(1, max_length)
    overlap = rng.randint(0, length - 1)
    return length, overlap, rng.choice([None] * nones + [rng.randint(1, length - overlap)])


class Counted:
    """Iterates over ``items`` and counts how many were pulled (tests of a stream's look-ahead)."""

    def __init__(self, items) -> None:
        self.items = items
        self.pulled = 0

    def __iter__(self):
        for item in self.items:
            self.pulled += 1
            yield item


def count_probes_and_checks(monkeypatch) -> dict[str, int]:
    """Count, from here on, the input probes and the output checks, from wherever they are called.

    A probe is ``info_from_container`` (a video's first frame decoded) or ``probe_frame_files`` (a frame
    folder's first image read); a check is ``check_output``. The returned dict is updated as they happen.
    """
    import vrestore.io.output_check as output_check
    import vrestore.io.probe as probe_module
    import vrestore.io.reader as reader_module
    import vrestore.io.writer as writer_module

    calls = {"probe": 0, "check": 0}

    def counted(name, function):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return function(*args, **kwargs)
        return wrapper

    for function in ("info_from_container", "probe_frame_files"):
        probed = counted("probe", getattr(probe_module, function))
        monkeypatch.setattr(probe_module, function, probed)
        monkeypatch.setattr(reader_module, function, probed)
    checked = counted("check", output_check.check_output)
    monkeypatch.setattr(output_check, "check_output", checked)
    monkeypatch.setattr(writer_module, "check_output", checked)
    return calls
