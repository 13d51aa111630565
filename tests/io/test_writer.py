"""Tests for vrestore.io.writer: lossless identity, rotation, temp file and cleanup.

Timestamps are in test_timing.py, audio in test_remux.py, codec/colour/size choices in test_encode_plan.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.helpers import leftovers
from tests.io.writing import (
    FAST,
    cfr_frames,
    clip,
    decode_source,
    frames_info,
    random_images,
    read_video,
    smooth_images,
    write_all,
)
from vrestore.io.output_check import temp_path_for
from vrestore.io.writer import open_writer
from vrestore.options import EncodeOptions

# --------------------------------------------------------------------------------------------- lossless


@pytest.mark.parametrize(("deep", "pix_fmt"), [(False, "bgr0"), (True, "gbrp16le")])
def test_ffv1_identity_is_bit_exact(tmp_path: Path, deep: bool, pix_fmt: str) -> None:
    images = random_images(4, 37, 21, deep=deep)
    info = frames_info(37, 21, bit_depth=16 if deep else 8, pix_fmt="rgb48le" if deep else "rgb24")
    dest = tmp_path / "out.mkv"
    summary = write_all(dest, info, cfr_frames(images), EncodeOptions(codec="ffv1"))
    assert summary.pix_fmt == pix_fmt and summary.frames == 4
    decoded, _, meta = read_video(dest, "rgb48le" if deep else "rgb24")
    assert meta["pix_fmt"] == pix_fmt
    assert len(decoded) == len(images)
    for got, want in zip(decoded, images, strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


# --------------------------------------------------------------------------------------------- rotation


@pytest.mark.parametrize("ext", ["mp4", "mkv"])
def test_rotation_is_written(tmp_path: Path, ext: str) -> None:
    dest = tmp_path / f"out.{ext}"
    write_all(dest, frames_info(rotation=90), cfr_frames(smooth_images(2, 64, 48)))
    assert read_video(dest)[2]["rotation"] == 90


def test_rotation_of_a_real_clip_is_kept(tmp_path: Path) -> None:
    from vrestore.io.probe import probe

    source = clip("keyboard-rotation90.mov")
    info = probe(source)
    assert info.rotation == -90
    frames = decode_source(source, info.width, info.height)
    dest = tmp_path / "out.mp4"
    write_all(dest, info, frames)
    assert read_video(dest)[2]["rotation"] == -90
    assert probe(dest).rotation == -90


# --------------------------------------------------------------------------------------------- cleanup


def test_temp_file_then_atomic_rename(tmp_path: Path) -> None:
    dest = tmp_path / "out.mp4"
    assert temp_path_for(dest) == tmp_path / ".out.mp4.part.mp4"
    with open_writer(dest, frames_info(), width=64, height=48, encode=FAST) as writer:
        for frame in cfr_frames(smooth_images(3, 64, 48)):
            writer.write(frame)
        assert not dest.exists()
        writer.close()
    assert leftovers(tmp_path) == ["out.mp4"]


def test_abort_leaves_no_file_and_keeps_the_old_destination(tmp_path: Path) -> None:
    dest = tmp_path / "out.mp4"
    dest.write_bytes(b"old")
    writer = open_writer(dest, frames_info(), width=64, height=48, encode=FAST, overwrite=True)
    for frame in cfr_frames(smooth_images(3, 64, 48)):
        writer.write(frame)
    assert temp_path_for(dest).exists()
    writer.abort()
    assert leftovers(tmp_path) == ["out.mp4"] and dest.read_bytes() == b"old"


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
def test_exception_inside_with_leaves_nothing(tmp_path: Path, error: type[BaseException]) -> None:
    dest = tmp_path / "out.mkv"
    with pytest.raises(error):
        with open_writer(dest, frames_info(), width=64, height=48, encode=FAST) as writer:
            writer.write(cfr_frames(smooth_images(1, 64, 48))[0])
            raise error()
    assert leftovers(tmp_path) == []


def test_keep_partial_finishes_the_temp_file_and_keeps_it(tmp_path: Path) -> None:
    dest = tmp_path / "out.mkv"
    images = random_images(5, 64, 48)
    with pytest.raises(KeyboardInterrupt):
        with open_writer(dest, frames_info(), width=64, height=48, encode=EncodeOptions(codec="ffv1")) as writer:
            for frame in cfr_frames(images):
                writer.write(frame)
            assert writer.keep_partial() == 5
            raise KeyboardInterrupt  # the with-block's abort() must not remove what was kept
    part = temp_path_for(dest)
    assert leftovers(tmp_path) == [part.name]
    decoded, times, _ = read_video(part)
    assert len(decoded) == 5 and all(np.array_equal(a, b) for a, b in zip(decoded, images, strict=True))
    assert times == pytest.approx([0.0, 0.04, 0.08, 0.12, 0.16])


def test_keep_partial_without_frames_keeps_nothing_and_temp_path_is_used(tmp_path: Path) -> None:
    dest = tmp_path / "out.mkv"
    other = tmp_path / ".elsewhere.mkv"
    assert open_writer(dest, frames_info(), width=64, height=48, encode=FAST, temp_path=other).keep_partial() == 0
    assert leftovers(tmp_path) == []
    writer = open_writer(dest, frames_info(), width=64, height=48, encode=FAST, temp_path=other)
    writer.write(cfr_frames(smooth_images(1, 64, 48))[0])
    assert writer.keep_partial() == 1
    assert leftovers(tmp_path) == [other.name]


def test_png_folder_destination_uses_the_frames_writer(tmp_path: Path) -> None:
    from vrestore.io.frames import PngFolderWriter

    writer = open_writer(tmp_path / "frames", frames_info(), width=64, height=48)
    assert isinstance(writer, PngFolderWriter)
    writer.abort()
