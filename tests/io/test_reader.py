"""open_reader(): decoding to RGB Frames with the source timing, colour handled explicitly."""

from __future__ import annotations

import logging
import os
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from vrestore.errors import InputError
from vrestore.frame import Frame
from vrestore.io.reader import open_reader


def read_all(source, **kwargs) -> list[Frame]:
    with open_reader(source, **kwargs) as reader:
        return list(reader)


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "vrestore" and r.levelno >= logging.WARNING]


def colour_bands(width: int, height: int, *, deep: bool = False) -> np.ndarray:
    """Saturated red, green, blue, yellow bands: where BT.601 and BT.709 decode very differently."""
    peak = 65535 if deep else 255
    colours = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]], dtype=np.float64) * 0.9 + 0.05
    band = np.repeat(np.arange(4), width // 4)
    image = colours[band][None, :, :].repeat(height, axis=0) * peak
    return np.round(image).astype(np.uint16 if deep else np.uint8)


def band_centres(image: np.ndarray) -> np.ndarray:
    """Mean colour of the middle of each band (away from chroma-subsampled edges), as floats in [0, 1]."""
    width = image.shape[1] // 4
    peak = 65535.0 if image.dtype == np.uint16 else 255.0
    return np.array([image[:, i * width + 4 : (i + 1) * width - 4].mean(axis=(0, 1)) for i in range(4)]) / peak


# ------------------------------------------------------------------------------------- pixels, exact


def test_lossless_rgb_round_trip_is_bit_exact(make_clip):
    rng = np.random.default_rng(7)
    images = [rng.integers(0, 256, (137, 243, 3), dtype=np.uint8) for _ in range(5)]
    frames = read_all(make_clip("rgb.mkv", images, pix_fmt="bgr0"))
    assert len(frames) == 5
    for i, (frame, image) in enumerate(zip(frames, images, strict=True)):
        assert frame.index == i
        assert frame.image.dtype == np.uint8 and frame.image.shape == (137, 243, 3)
        np.testing.assert_array_equal(frame.image, image)


def test_images_are_contiguous_copies(make_clip):
    frames = read_all(make_clip("rgb.mkv", count=3, size=(243, 137), pix_fmt="bgr0"))
    for frame in frames:
        assert frame.image.flags.c_contiguous and frame.image.flags.owndata and frame.image.flags.writeable
    assert not np.shares_memory(frames[0].image, frames[1].image)


def test_ten_bit_rgb_decodes_to_full_scale_uint16(make_clip):
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 65536, (137, 243, 3), dtype=np.uint16) for _ in range(3)]
    frames = read_all(make_clip("rgb10.mkv", images, pix_fmt="gbrp10le", options={"level": "3"}))
    for frame, image in zip(frames, images, strict=True):
        assert frame.image.dtype == np.uint16 and frame.max_value == 65535
        # Lossless at 10 bits: within one 10-bit step of the 16-bit original.
        assert np.abs(frame.image.astype(int) - image.astype(int)).max() <= 64


# ----------------------------------------------------------------------------------- pixels, colour


def test_eight_bit_yuv_is_close_to_source(make_clip, gradients):
    images = gradients(4, 243, 137)
    frames = read_all(make_clip("odd.mkv", images))
    for frame, image in zip(frames, images, strict=True):
        assert frame.image.dtype == np.uint8
        assert np.abs(frame.image.astype(int) - image.astype(int)).mean() < 1.5


def test_ten_bit_yuv_decodes_to_uint16_close_to_source(make_clip, gradients):
    images = gradients(3, 64, 48, deep=True)
    frames = read_all(make_clip("ten.mkv", images, pix_fmt="yuv420p10le"))
    for frame, image in zip(frames, images, strict=True):
        assert frame.image.dtype == np.uint16
        error = np.abs(frame.image.astype(np.int64) - image.astype(np.int64)).mean()
        assert error < 0.005 * 65535  # a 10-bit chroma-subsampled round trip, not an 8-bit one


@pytest.mark.parametrize(
    ("height", "encode_matrix", "tags"),
    [
        (240, "smpte170m", None),  # untagged SD: decoded as BT.601
        (720, "bt709", None),  # untagged HD: decoded as BT.709
        (240, "bt709", {"matrix": "bt709"}),  # the tag wins over the height
        (720, "smpte170m", {"matrix": "smpte170m"}),
        (240, "bt709", {"matrix": "bt709", "range": "pc"}),  # full range
    ],
)
def test_decoding_uses_the_effective_matrix_and_range(make_clip, height, encode_matrix, tags):
    image = colour_bands(64, height)
    frame = read_all(make_clip("bands.mkv", [image], matrix=encode_matrix, tags=tags, pix_fmt="yuv444p"))[0]
    np.testing.assert_allclose(band_centres(frame.image), band_centres(image), atol=2 / 255)


def test_wrong_matrix_would_be_visible(make_clip):
    """Control for the test above: BT.709 pixels left untagged in an SD file decode visibly off."""
    image = colour_bands(64, 240)
    frame = read_all(make_clip("bands.mkv", [image], matrix="bt709", pix_fmt="yuv444p"))[0]
    assert np.abs(band_centres(frame.image) - band_centres(image)).max() > 10 / 255


def test_ten_bit_matches_eight_bit_decode(make_clip):
    image = colour_bands(64, 48, deep=True)
    deep = read_all(make_clip("d.mkv", [image], pix_fmt="yuv444p10le"))[0].image
    shallow = read_all(make_clip("s.mkv", [(image >> 8).astype(np.uint8)], pix_fmt="yuv444p"))[0].image
    np.testing.assert_allclose(band_centres(deep), band_centres(shallow), atol=2 / 255)


# ----------------------------------------------------------------------------------------- timing


def test_cfr_timing(make_clip):
    frames = read_all(make_clip("cfr.mkv", count=5))
    assert [f.pts for f in frames] == [0, 40, 80, 120, 160]
    assert all(f.time_base == Fraction(1, 1000) for f in frames)
    assert frames[0].is_key


def test_vfr_timestamps_are_preserved(make_clip):
    pts = [0, 33, 100, 120, 250, 260, 400, 1000]
    frames = read_all(make_clip("vfr.mkv", count=len(pts), pts=pts, time_base=Fraction(1, 1000)))
    assert [f.pts for f in frames] == pts
    assert [f.index for f in frames] == list(range(len(pts)))


def test_b_frames_and_threads_lose_no_tail_frame(make_clip):
    """Frame threading delays output; the decoder must be flushed so the last frames arrive."""
    path = make_clip("bframes.mp4", count=40, size=(128, 96), codec="libx264", options={"bf": "3", "g": "12"})
    with open_reader(path) as reader:
        frames = list(reader)
    assert len(frames) == 40
    pts = [f.pts for f in frames]
    assert pts == sorted(pts) and len(set(pts)) == 40  # presentation order
    assert frames[0].is_key and sum(f.is_key for f in frames) < 40
    assert frames[0].duration == 512


def test_audio_does_not_disturb_video(make_clip):
    frames = read_all(make_clip("sound.mp4", count=10, codec="libx264", audio=True))
    assert len(frames) == 10


def test_real_vfr_clip(shared_data):
    path = shared_data / "clips" / "fire-720p-vfr-audio.mp4"
    with av.open(str(path)) as container:  # reference timestamps straight from PyAV
        expected = [f.pts for f in container.decode(video=0)]
    frames = read_all(path)
    assert [f.pts for f in frames] == expected and len(frames) == 25
    assert len({b - a for a, b in zip(expected, expected[1:], strict=False)}) > 1  # really variable
    assert frames[0].image.shape == (720, 1280, 3)


@pytest.mark.parametrize(
    ("clip", "count"),
    [
        ("keyboard-rotation90.mov", 3),
        ("office-1080p-pts-gap.mp4", 72),
        ("pancake-426x240-vfr-opus.mkv", 310),
    ],
)
def test_real_clips_decode_completely_without_warnings(shared_data, caplog, clip, count):
    with caplog.at_level(logging.INFO, logger="vrestore"):
        frames = read_all(shared_data / "clips" / clip)
    assert len(frames) == count
    assert warnings_of(caplog) == []
    pts = [f.pts for f in frames]
    assert all(b > a for a, b in zip(pts, pts[1:], strict=False))


def test_avi_with_b_frames_gets_ordered_timestamps(shared_data, caplog):
    """AVI has no real pts: PyAV labels B-frame-reordered output out of order; we hand them out sorted."""
    path = shared_data / "clips" / "plaza-720p-audio-irregular-pts.avi"
    with av.open(str(path)) as container:
        raw = [f.pts for f in container.decode(video=0)]
    assert raw != sorted(raw)  # the problem exists in the source
    with caplog.at_level(logging.INFO, logger="vrestore"):
        frames = read_all(path)
    assert len(frames) == 341  # the container's nb_frames (682) counts empty AVI chunks
    assert [f.pts for f in frames] == sorted(raw)
    assert warnings_of(caplog) == []


def test_timestamp_sorter():
    from vrestore.io.reader import _TimestampSorter

    sorter = _TimestampSorter(window=3)
    arrivals = [("a", 2), ("b", 6), ("c", 8), ("d", 4), ("e", 10), ("f", None)]
    released = [pair for frame, pts in arrivals for pair in sorter.push(frame, pts)] + sorter.drain()
    assert released == [("a", 2), ("b", 4), ("c", 6), ("d", 8), ("e", 10), ("f", None)]


def test_rotated_clip_is_decoded_in_coded_orientation(shared_data):
    frames = read_all(shared_data / "clips" / "keyboard-rotation90.mov")
    assert frames[0].image.shape == (320, 568, 3)


# ------------------------------------------------------------------------------------ y4m and 10-bit


def test_y4m(make_clip):
    with open_reader(make_clip("raw.y4m", count=3, codec="rawvideo")) as reader:
        assert reader.info.kind == "y4m"
        frames = list(reader)
    assert [f.pts for f in frames] == [0, 1, 2]
    assert frames[0].time_base == Fraction(1, 25)


def _sparks_y4m(shared_data: Path, tmp_path: Path) -> tuple[Path, bytes]:
    raw = (shared_data / "pairs" / "sparks-10bit" / "sparks_ref_480x270.yuv42010le.yuv").read_bytes()
    frame_bytes = 480 * 270 * 3  # 4:2:0 at 2 bytes per sample
    path = tmp_path / "sparks.y4m"
    with path.open("wb") as out:
        out.write(b"YUV4MPEG2 W480 H270 F25:1 Ip A1:1 C420p10 XYSCSS=420P10\n")
        for start in range(0, len(raw), frame_bytes):
            out.write(b"FRAME\n" + raw[start : start + frame_bytes])
    return path, raw[:frame_bytes]


def test_real_ten_bit_y4m_matches_a_numpy_reference(shared_data, tmp_path):
    path, first = _sparks_y4m(shared_data, tmp_path)
    frames = read_all(path)
    assert len(frames) == 5
    image = frames[0].image
    assert image.dtype == np.uint16 and image.shape == (270, 480, 3)

    # Independent BT.601 limited-range 10-bit conversion (the effective matrix of an untagged 270p file).
    samples = np.frombuffer(first, dtype="<u2").astype(np.float64)
    y = samples[: 480 * 270].reshape(270, 480)
    u, v = (p.reshape(135, 240).repeat(2, 0).repeat(2, 1) for p in np.split(samples[480 * 270 :], 2))
    y, u, v = (y - 64) / 876, (u - 512) / 896, (v - 512) / 896
    rgb = np.stack([y + 1.402 * v, y - 0.344136 * u - 0.714136 * v, y + 1.772 * u], -1).clip(0, 1)
    assert np.abs(image / 65535.0 - rgb).mean() < 0.01


# -------------------------------------------------------------------------------- truncated, corrupt


def _cut_in_half(path: Path, dest: Path) -> Path:
    data = path.read_bytes()
    dest.write_bytes(data[: len(data) // 2])
    return dest


def test_truncated_file_yields_what_decodes_and_warns_once(make_clip, tmp_path, caplog):
    full = make_clip("full.mkv", count=50, size=(64, 48), codec="libx264")
    cut = _cut_in_half(full, tmp_path / "cut.mkv")
    with caplog.at_level(logging.WARNING, logger="vrestore"):
        frames = read_all(cut)
    assert 5 < len(frames) < 50
    assert warnings_of(caplog) == [
        f"input '{cut}' is truncated or corrupt after frame {len(frames)}; the output stops there"
    ]


def test_source_cut_after_the_probe_has_no_frames(make_clip, tmp_path):
    """The reader's own check: a source probed whole, then cut to its header before it is decoded."""
    from vrestore.io.probe import probe

    path = make_clip("clip.mkv", count=4)
    info = probe(path)
    path.write_bytes(path.read_bytes()[:700])
    with pytest.raises(InputError) as excinfo:
        read_all(path, info=info)
    assert str(excinfo.value) == f"input '{path}' contains no decodable video frames; the file is corrupt or truncated"


def test_complete_file_does_not_warn(make_clip, caplog):
    with caplog.at_level(logging.WARNING, logger="vrestore"):
        assert len(read_all(make_clip("full.mkv", count=50, codec="libx264"))) == 50
    assert warnings_of(caplog) == []


def test_truncated_real_clip(shared_data, tmp_path, caplog):
    cut = _cut_in_half(shared_data / "clips" / "fire-720p-vfr-audio.mp4", tmp_path / "half.mp4")
    with caplog.at_level(logging.WARNING, logger="vrestore"):
        frames = read_all(cut)
    assert 0 < len(frames) < 25
    assert len(warnings_of(caplog)) == 1 and "truncated or corrupt" in warnings_of(caplog)[0]


# --------------------------------------------------------------------------------------- lifetimes


def test_reader_info_matches_probe(make_clip):
    from vrestore.io.probe import probe

    path = make_clip("a.mkv", count=2)
    with open_reader(path) as reader:
        assert reader.info == probe(path)


def open_descriptors(path: Path) -> int:
    """How many file descriptors of this process point at ``path`` (what the OS sees of an open source)."""
    folder = Path("/proc/self/fd")
    if not folder.is_dir():
        pytest.skip("needs /proc/self/fd to see which files are open")
    target, count = path.resolve(), 0
    for fd in folder.iterdir():
        try:
            count += Path(os.readlink(fd)) == target
        except OSError:  # the descriptor of the listing itself is gone by now
            pass
    return count


@pytest.fixture()
def opened(monkeypatch) -> list:
    """Every container PyAV opens during the test, in order (``av.open`` spied on)."""
    containers = []
    real_open = av.open

    def spy(*args, **kwargs):
        containers.append(real_open(*args, **kwargs))
        return containers[-1]

    monkeypatch.setattr(av, "open", spy)
    return containers


def test_decoder_uses_threads(make_clip, opened):
    with open_reader(make_clip("a.mkv", count=2)) as reader:
        stream = opened[-1].streams.video[0]  # the decoding container is the last one opened
        assert stream.thread_type.name == "AUTO" or "FRAME" in str(stream.thread_type)
        assert len(list(reader)) == 2


def test_abandoned_iteration_closes_the_source(make_clip):
    path = make_clip("a.mkv", count=6)
    reader = open_reader(path)
    frames = iter(reader)
    next(frames)
    assert open_descriptors(path) == 1
    frames.close()  # what a `for` loop that breaks does once the iterator is dropped
    assert open_descriptors(path) == 0
    del reader


def test_context_manager_closes_on_early_exit(make_clip):
    path = make_clip("a.mkv", count=6)
    with open_reader(path) as reader:
        for _ in reader:
            assert open_descriptors(path) == 1
            break
    assert open_descriptors(path) == 0


def test_exception_in_consumer_closes(make_clip):
    path = make_clip("a.mkv", count=6)
    reader = open_reader(path)
    with pytest.raises(ZeroDivisionError):
        with reader:
            for _ in reader:
                assert open_descriptors(path) == 1
                raise ZeroDivisionError("the consumer failed")
    assert open_descriptors(path) == 0


def test_reader_iterates_once(make_clip):
    with open_reader(make_clip("a.mkv", count=2)) as reader:
        list(reader)
        with pytest.raises(RuntimeError):
            iter(reader)


def test_open_reader_errors_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        open_reader(tmp_path / "missing.mp4")


# ------------------------------------------------------------------------------------ image folders


def test_frame_folder_timing(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for i in (1, 2, 10):
        cv2.imwrite(str(folder / f"f{i}.png"), np.full((8, 12, 3), i, np.uint8))
    rate = Fraction(30000, 1001)
    frames = read_all(folder, frame_rate=rate)
    assert [f.image[0, 0, 0] for f in frames] == [1, 2, 10]
    assert [f.pts for f in frames] == [0, 1, 2]
    assert all(f.time_base == 1 / rate for f in frames)


def test_frame_rate_is_ignored_for_videos(make_clip):
    frames = read_all(make_clip("a.mkv", count=2), frame_rate=Fraction(60))
    assert [f.pts for f in frames] == [0, 40]
