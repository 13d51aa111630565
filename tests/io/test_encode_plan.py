"""Tests for vrestore.io.encode_plan through the writer: colour tags and matrix, bit depth, odd sizes, refusals."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from tests.helpers import leftovers
from tests.io.writing import cfr_frames, frames_info, read_video, smooth_images, write_all
from vrestore.errors import OutputError, UsageError
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


# --------------------------------------------------------------------------------------------- the plan itself


@pytest.mark.parametrize(
    ("name", "size", "overrides", "codec", "pix_fmt", "rgb"),
    [
        ("o.mp4", (64, 48), {}, "libx264", "yuv420p", False),
        ("o.mkv", (243, 137), {}, "libx264", "yuv444p", False),  # odd size: full chroma
        ("o.mov", (64, 48), {"pix_fmt": "yuv444p"}, "libx264", "yuv444p", False),  # a 4:4:4 source stays 4:4:4
        ("o.webm", (64, 48), {}, "libvpx-vp9", "yuv420p", False),
    ],
)
def test_plan_follows_the_container_and_the_source(name, size, overrides, codec, pix_fmt, rgb) -> None:
    from vrestore.io.encode_plan import plan_encoding

    plan = plan_encoding(Path(name), frames_info(*size, **overrides), EncodeOptions(), width=size[0], height=size[1])
    assert (plan.codec, plan.pix_fmt, plan.rgb) == (codec, pix_fmt, rgb)


def test_ffv1_is_stored_as_rgb_and_aliases_name_encoders() -> None:
    from vrestore.io.encode_plan import plan_encoding

    lossless = plan_encoding(Path("o.mkv"), frames_info(), EncodeOptions(codec="ffv1"), width=64, height=48)
    assert (lossless.codec, lossless.pix_fmt, lossless.rgb) == ("ffv1", "bgr0", True)
    deep = plan_encoding(Path("o.mkv"), frames_info(bit_depth=16, pix_fmt="rgb48le"), EncodeOptions(codec="ffv1"),
                         width=64, height=48)
    assert deep.pix_fmt == "gbrp16le"
    x264 = plan_encoding(Path("o.mp4"), frames_info(), EncodeOptions(codec="h264", crf=20), width=64, height=48)
    assert x264.codec == "libx264" and x264.options == {"preset": "medium", "crf": "20"}


def test_unknown_extension_is_an_output_error() -> None:
    from vrestore.io.encode_plan import plan_encoding

    with pytest.raises(OutputError, match=r"\.avi"):
        plan_encoding(Path("o.avi"), frames_info(), EncodeOptions(), width=64, height=48)
