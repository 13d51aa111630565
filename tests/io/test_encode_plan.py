"""Tests for vrestore.io.encode_plan through the writer: colour tags and matrix, bit depth, odd sizes, refusals."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests.helpers import leftovers
from tests.io.writing import cfr_frames, frames_info, read_video, smooth_images, write_all
from vrestore.errors import UsageError
from vrestore.io.info import ColorTags
from vrestore.io.writer import open_writer
from vrestore.options import EncodeOptions


@pytest.mark.parametrize(
    ("tags", "ids"),
    [
        (ColorTags("bt709", "bt709", "bt709", "tv", "bt709", "tv"), (1, 1, 1, 1)),
        (ColorTags("smpte170m", "smpte170m", "smpte170m", "tv", "smpte170m", "tv"), (6, 1, 6, 6)),
        (ColorTags(None, None, None, None, "smpte170m", "tv"), (6, 1, 2, 2)),  # untagged: the effective matrix
    ],
)
def test_colour_tags_and_matrix(tmp_path: Path, tags: ColorTags, ids: tuple[int, int, int, int]) -> None:
    flat = np.empty((32, 48, 3), np.uint8)
    flat[:] = (200, 80, 40)
    dest = tmp_path / "out.mp4"
    write_all(dest, frames_info(48, 32, color=tags, pix_fmt="yuv420p"), cfr_frames([flat] * 3))
    decoded, _, meta = read_video(dest, matrix=tags.matrix_effective)
    assert (meta["colorspace"], meta["color_range"], meta["primaries"], meta["trc"]) == ids
    # Decoding with the tagged matrix gives the colour back: the encoder converted with that same matrix.
    assert np.abs(decoded[0].astype(int) - flat).max() <= 3


def test_high_bit_depth_source_gives_10_bit_output(tmp_path: Path) -> None:
    images = smooth_images(3, 64, 48, deep=True)
    info = frames_info(bit_depth=10, pix_fmt="yuv420p10le", color=ColorTags(matrix_effective="bt709"))
    dest = tmp_path / "out.mp4"
    summary = write_all(dest, info, cfr_frames(images))
    decoded, _, meta = read_video(dest, "rgb48le", matrix="bt709")
    assert av.VideoFormat(meta["pix_fmt"]).components[0].bits >= 10
    assert summary.pix_fmt == meta["pix_fmt"]
    assert np.abs(decoded[0].astype(int) - images[0]).mean() < 0.01 * 65535


def test_odd_size_is_encoded_at_its_exact_size(tmp_path: Path) -> None:
    images = smooth_images(4, 243, 137)
    dest = tmp_path / "out.mp4"
    summary = write_all(dest, frames_info(243, 137), cfr_frames(images))
    decoded, _, meta = read_video(dest, matrix="bt709")  # frames_info's effective matrix (ColorTags default)
    assert (meta["width"], meta["height"]) == (243, 137) and summary.pix_fmt == "yuv444p"
    assert len(decoded) == 4 and decoded[0].shape == (137, 243, 3)
    assert np.abs(decoded[0].astype(int) - images[0]).mean() < 1.5


def test_output_size_may_differ_from_the_source(tmp_path: Path) -> None:
    images = smooth_images(3, 128, 96)
    dest = tmp_path / "out.webm"
    write_all(dest, frames_info(64, 48), cfr_frames(images))
    _, _, meta = read_video(dest)
    assert (meta["width"], meta["height"], meta["pix_fmt"]) == (128, 96, "yuv420p")


def test_even_only_pix_fmt_with_odd_size_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="even"):
        open_writer(
            tmp_path / "o.mp4", frames_info(243, 137), width=243, height=137, encode=EncodeOptions(pix_fmt="yuv420p")
        )
    assert leftovers(tmp_path) == []


def test_unknown_codec_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="nosuchcodec"):
        open_writer(tmp_path / "o.mkv", frames_info(), width=64, height=48, encode=EncodeOptions(codec="nosuchcodec"))
