"""Image sequences: natural ordering, 8/16-bit reading, and the atomic PNG folder writer."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest

from vrestore.errors import InputError, OutputError
from vrestore.frame import Frame
from vrestore.io.frames import PngFolderWriter, find_frame_files, natural_key, read_image
from vrestore.io.probe import probe
from vrestore.io.reader import open_reader


def write_bgr(path: Path, rgb: np.ndarray) -> Path:
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path


def numbered_folder(folder: Path, numbers, suffix: str = ".png", size=(6, 4)) -> Path:
    """Images whose red channel is their number."""
    folder.mkdir(exist_ok=True)
    width, height = size
    for n in numbers:
        image = np.zeros((height, width, 3), np.uint8)
        image[..., 0] = n
        write_bgr(folder / f"frame_{n}{suffix}", image)
    return folder


def frame(index: int, image: np.ndarray) -> Frame:
    return Frame(image=image, pts=index, time_base=Fraction(1, 25), index=index)


# -------------------------------------------------------------------------------------------- finding


def test_natural_order():
    names = ["10.png", "2.png", "1.png", "frame_100.png", "frame_20.png", "Frame_3.png"]
    assert sorted(names, key=natural_key) == [
        "1.png",
        "2.png",
        "10.png",
        "Frame_3.png",
        "frame_20.png",
        "frame_100.png",
    ]


def test_folder_is_read_in_natural_order(tmp_path):
    folder = numbered_folder(tmp_path / "f", [10, 1, 2, 100, 20])
    (folder / "notes.txt").write_text("ignored")
    (folder / "._frame_0.png").write_bytes(b"macOS resource fork, not an image")
    files = find_frame_files(folder)
    assert [p.name for p in files] == [f"frame_{n}.png" for n in (1, 2, 10, 20, 100)]
    with open_reader(folder) as reader:
        assert [int(f.image[0, 0, 0]) for f in reader] == [1, 2, 10, 20, 100]


def test_glob_pattern(tmp_path):
    folder = numbered_folder(tmp_path / "f", [3, 1, 2])
    numbered_folder(folder, [50], suffix=".jpg")
    files = find_frame_files(str(folder / "*.png"))
    assert [p.name for p in files] == ["frame_1.png", "frame_2.png", "frame_3.png"]
    info = probe(str(folder / "*.png"))
    assert info.kind == "frames" and info.frame_count == 3 and info.codec == "png"


def test_single_image_is_a_one_frame_sequence(tmp_path):
    path = write_bgr(tmp_path / "photo.jpg", np.full((10, 16, 3), 128, np.uint8))
    info = probe(path)
    assert (info.kind, info.frame_count, info.width, info.height) == ("frames", 1, 16, 10)
    with open_reader(path) as reader:
        frames = list(reader)
    assert len(frames) == 1 and frames[0].pts == 0
    assert np.abs(frames[0].image.astype(int) - 128).max() <= 2  # JPEG


def test_frame_rate_must_be_positive(tmp_path):
    from vrestore.errors import UsageError

    numbered_folder(tmp_path / "f", [1])
    with pytest.raises(UsageError, match="not positive"):
        probe(tmp_path / "f", frame_rate=Fraction(0))


def test_a_video_file_is_not_a_frame_source(make_clip):
    assert find_frame_files(make_clip("a.mkv", count=1)) is None


# -------------------------------------------------------------------------------------------- reading


def test_channel_order_is_rgb(tmp_path):
    rgb = np.zeros((4, 4, 3), np.uint8)
    rgb[..., 0], rgb[..., 1], rgb[..., 2] = 200, 100, 50
    np.testing.assert_array_equal(read_image(write_bgr(tmp_path / "c.png", rgb)), rgb)


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_lossless_formats_read_exactly(tmp_path, suffix):
    rgb = np.random.default_rng(1).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    image = read_image(write_bgr(tmp_path / f"x{suffix}", rgb))
    assert image.dtype == np.uint8 and image.flags.c_contiguous
    np.testing.assert_array_equal(image, rgb)


@pytest.mark.parametrize("suffix", [".png", ".tiff"])
def test_sixteen_bit_images_read_as_uint16(tmp_path, suffix):
    rgb = np.random.default_rng(2).integers(0, 65536, (9, 7, 3), dtype=np.uint16)
    image = read_image(write_bgr(tmp_path / f"deep{suffix}", rgb))
    assert image.dtype == np.uint16
    np.testing.assert_array_equal(image, rgb)


def test_gray_and_alpha_images_become_rgb(tmp_path):
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4)
    cv2.imwrite(str(tmp_path / "g.png"), gray)
    np.testing.assert_array_equal(read_image(tmp_path / "g.png"), np.repeat(gray[..., None], 3, axis=2))
    bgra = np.zeros((3, 4, 4), np.uint8)
    bgra[..., 2], bgra[..., 3] = 255, 7  # red, nearly transparent
    cv2.imwrite(str(tmp_path / "a.png"), bgra)
    assert read_image(tmp_path / "a.png")[0, 0].tolist() == [255, 0, 0]


def test_sixteen_bit_folder_probe_and_frames(tmp_path):
    folder = tmp_path / "deep"
    folder.mkdir()
    for i in range(3):
        write_bgr(folder / f"{i}.png", np.full((5, 8, 3), 1000 * (i + 1), np.uint16))
    info = probe(folder)
    assert (info.bit_depth, info.pix_fmt, info.high_bit_depth) == (16, "rgb48le", True)
    assert info.frame_rate == 25 and info.time_base is None
    assert info.color.range_effective == "pc"
    with open_reader(folder) as reader:
        frames = list(reader)
    assert [int(f.image[0, 0, 0]) for f in frames] == [1000, 2000, 3000]
    assert all(f.image.dtype == np.uint16 and f.time_base == Fraction(1, 25) for f in frames)


def test_non_ascii_path(tmp_path):
    folder = numbered_folder(tmp_path / "кадры é", [1, 2])
    with open_reader(folder) as reader:
        assert len(list(reader)) == 2


def test_corrupt_image_is_an_input_error(tmp_path):
    folder = numbered_folder(tmp_path / "f", [1, 2])
    (folder / "frame_3.png").write_bytes(b"\x89PNG but not really")
    with open_reader(folder) as reader, pytest.raises(InputError, match="frame_3.png"):
        list(reader)


def test_mixed_sizes_are_an_input_error(tmp_path):
    folder = numbered_folder(tmp_path / "f", [1, 2])
    numbered_folder(folder, [3], size=(8, 8))
    with open_reader(folder) as reader, pytest.raises(InputError, match="all frames must match"):
        list(reader)


# -------------------------------------------------------------------------------------------- writing


def test_writer_renames_on_close(tmp_path):
    dest = tmp_path / "out"
    images = [np.full((4, 6, 3), i, np.uint8) for i in range(3)]
    with PngFolderWriter(dest) as writer:
        for i, image in enumerate(images):
            writer.write(frame(i, image))
        assert not dest.exists() and (tmp_path / "out.part").is_dir()
    assert writer.frames_written == 3
    assert sorted(p.name for p in dest.iterdir()) == ["00000000.png", "00000001.png", "00000002.png"]
    assert not (tmp_path / "out.part").exists()
    for i, image in enumerate(images):
        np.testing.assert_array_equal(read_image(dest / f"{i:08d}.png"), image)


def test_writer_keeps_sixteen_bits(tmp_path):
    image = np.random.default_rng(5).integers(0, 65536, (5, 7, 3), dtype=np.uint16)
    with PngFolderWriter(tmp_path / "deep") as writer:
        writer.write(frame(0, image))
    written = cv2.imread(str(tmp_path / "deep" / "00000000.png"), cv2.IMREAD_UNCHANGED)
    assert written.dtype == np.uint16
    np.testing.assert_array_equal(read_image(tmp_path / "deep" / "00000000.png"), image)


def test_abort_leaves_nothing(tmp_path):
    writer = PngFolderWriter(tmp_path / "out")
    writer.write(frame(0, np.zeros((4, 4, 3), np.uint8)))
    writer.abort()
    assert list(tmp_path.iterdir()) == []
    writer.close()  # closing after abort does not resurrect anything
    assert list(tmp_path.iterdir()) == []


def test_exception_inside_with_aborts(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with PngFolderWriter(tmp_path / "out") as writer:
            writer.write(frame(0, np.zeros((4, 4, 3), np.uint8)))
            raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_existing_destination_needs_overwrite(tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "keep.txt").write_text("old")
    with pytest.raises(OutputError, match="already exists"):
        PngFolderWriter(dest)
    assert (dest / "keep.txt").exists() and not (tmp_path / "out.part").exists()


def test_overwrite_replaces_the_old_output(tmp_path):
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "stale.png").write_text("old")
    with PngFolderWriter(dest, overwrite=True) as writer:
        writer.write(frame(0, np.zeros((4, 4, 3), np.uint8)))
        assert (dest / "stale.png").exists()  # the old output stays until the new one is complete
    assert sorted(p.name for p in dest.iterdir()) == ["00000000.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_stale_partial_folder_is_replaced(tmp_path):
    (tmp_path / "out.part").mkdir()
    (tmp_path / "out.part" / "junk.png").write_text("from a crashed run")
    with PngFolderWriter(tmp_path / "out") as writer:
        writer.write(frame(0, np.zeros((4, 4, 3), np.uint8)))
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["00000000.png"]


def test_missing_parent_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        PngFolderWriter(tmp_path / "no" / "out")


def test_write_after_close_fails(tmp_path):
    writer = PngFolderWriter(tmp_path / "out")
    writer.close()
    assert (tmp_path / "out").is_dir()
    with pytest.raises(RuntimeError):
        writer.write(frame(0, np.zeros((4, 4, 3), np.uint8)))


def test_read_back_through_open_reader(tmp_path):
    images = [np.random.default_rng(i).integers(0, 256, (6, 10, 3), dtype=np.uint8) for i in range(12)]
    with PngFolderWriter(tmp_path / "out") as writer:
        for i, image in enumerate(images):
            writer.write(frame(i, image))
    with open_reader(tmp_path / "out") as reader:
        frames = list(reader)
    assert [f.index for f in frames] == list(range(12))  # %08d names sort correctly
    for f, image in zip(frames, images, strict=True):
        np.testing.assert_array_equal(f.image, image)
