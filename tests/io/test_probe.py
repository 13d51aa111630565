"""probe(): what we learn about a source before decoding it."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.helpers import assert_one_line_message
from vrestore.errors import InputError
from vrestore.io.info import StreamInfo
from vrestore.io.probe import bit_depth, probe, rational

# ------------------------------------------------------------------------------------------ basics


def test_lossless_odd_size_clip(make_clip):
    path = make_clip("odd.mkv", count=5, size=(243, 137))
    info = probe(path)
    assert info.kind == "video"
    assert (info.width, info.height) == (243, 137)
    assert info.source == str(path)
    assert info.codec == "ffv1"
    assert info.pix_fmt == "yuv420p"
    assert info.bit_depth == 8 and not info.high_bit_depth
    assert info.frame_rate == Fraction(25)
    assert info.time_base == Fraction(1, 1000)  # Matroska
    assert info.start_pts == 0
    assert info.duration_s == pytest.approx(0.2)
    assert info.frame_count == 5  # no nb_frames in mkv: estimated from duration x rate
    assert info.rotation == 0
    assert info.streams == ()


def test_frame_count_from_container(make_clip):
    info = probe(make_clip("h264.mp4", count=10, codec="libx264"))
    assert info.frame_count == 10
    assert info.time_base is not None and info.frame_rate == 25


def test_accepts_pathlike_and_str(make_clip):
    path = make_clip("a.mkv", count=2)
    assert probe(path) == probe(str(path))


@pytest.mark.parametrize(
    ("pix_fmt", "depth"), [("yuv420p", 8), ("yuv420p10le", 10), ("yuv444p12le", 12), ("gray16le", 16)]
)
def test_bit_depth_from_descriptor(pix_fmt, depth):
    assert bit_depth(pix_fmt) == depth


def test_ten_bit_clip(make_clip):
    info = probe(make_clip("ten.mkv", count=2, deep=True, pix_fmt="yuv420p10le"))
    assert info.pix_fmt == "yuv420p10le"
    assert info.bit_depth == 10 and info.high_bit_depth


def test_rational_handles_av18_and_av19_unset_values():
    assert rational(None) is None
    assert rational(Fraction(0, 1)) is None  # av 19 reports unset rationals as a falsy 0/1
    assert rational(Fraction(30000, 1001)) == Fraction(30000, 1001)


# ------------------------------------------------------------------------------------------- colour


def test_colour_tags_are_reported(make_clip):
    tags = {"matrix": "bt709", "range": "tv", "primaries": "bt709", "transfer": "bt709"}
    color = probe(make_clip("tagged.mp4", count=2, codec="libx264", tags=tags)).color
    assert (color.matrix, color.range, color.primaries, color.transfer) == ("bt709", "tv", "bt709", "bt709")
    assert (color.matrix_effective, color.range_effective) == ("bt709", "tv")


def test_tag_wins_over_height_heuristic(make_clip):
    color = probe(make_clip("sd709.mkv", count=1, size=(32, 240), tags={"matrix": "bt709"})).color
    assert color.matrix == "bt709" and color.matrix_effective == "bt709"


@pytest.mark.parametrize(
    ("height", "expected"), [(480, "smpte170m"), (576, "smpte170m"), (720, "bt709"), (1080, "bt709")]
)
def test_untagged_matrix_follows_height(make_clip, height, expected):
    color = probe(make_clip(f"h{height}.mkv", count=1, size=(16, height))).color
    assert color.matrix is None and color.range is None
    assert color.matrix_effective == expected
    assert color.range_effective == "tv"


def test_full_range_tag(make_clip):
    color = probe(make_clip("full.mkv", count=1, tags={"matrix": "bt709", "range": "pc"})).color
    assert color.range == "pc" and color.range_effective == "pc"


def test_rgb_source_is_full_range(make_clip):
    info = probe(make_clip("rgb.mkv", count=1, pix_fmt="bgr0"))
    assert info.pix_fmt == "bgr0"
    assert info.color.range_effective == "pc"


# ----------------------------------------------------------------------------------------- rotation


@pytest.mark.parametrize("degrees", [90, -90, 180])
def test_rotation_from_display_matrix(make_clip, degrees):
    info = probe(make_clip(f"rot{degrees}.mp4", count=2, codec="libx264", rotation=degrees))
    assert info.rotation == degrees
    assert (info.width, info.height) == (64, 48)  # coded orientation, not the displayed one


def test_rotation_of_real_phone_clip(shared_data):
    info = probe(shared_data / "clips" / "keyboard-rotation90.mov")
    assert info.rotation == -90
    assert (info.width, info.height) == (568, 320)
    assert info.color.matrix == "bt709"


# ------------------------------------------------------------------------------------------ streams


def test_audio_stream_listed_with_container_index(make_clip):
    info = probe(make_clip("sound.mp4", count=10, codec="libx264", audio=True))
    assert info.streams == (StreamInfo(index=1, kind="audio", codec="aac", language="und"),)
    assert info.audio_streams == info.streams


def test_y4m_kind(make_clip):
    info = probe(make_clip("raw.y4m", count=3, codec="rawvideo"))
    assert info.kind == "y4m"
    assert info.frame_count == 3 and info.frame_rate == 25


# (clip, width, height, audio streams)
REAL_CLIPS = [
    ("cockatoo-720p-audio.mp4", 1280, 720, 1),
    ("plaza-720p-audio-irregular-pts.avi", 1280, 720, 1),
    ("fire-720p-vfr-audio.mp4", 1280, 720, 1),
    ("armwrestling-340x256.mp4", 340, 256, 0),
    ("basketball-426x240.mp4", 426, 240, 0),
    ("pancake-426x240-vfr-opus.mkv", 426, 240, 1),
]


@pytest.mark.parametrize(("clip", "width", "height", "audio"), REAL_CLIPS)
def test_real_clips(shared_data, clip, width, height, audio):
    info = probe(shared_data / "clips" / clip)
    assert (info.width, info.height) == (width, height)
    assert len(info.audio_streams) == audio
    assert info.bit_depth == 8
    assert info.frame_count and info.frame_rate and info.time_base
    assert info.color.matrix_effective == ("bt709" if height >= 720 else "smpte170m")


def test_real_vfr_clip_timing(shared_data):
    info = probe(shared_data / "clips" / "fire-720p-vfr-audio.mp4")
    assert info.time_base == Fraction(1, 90000)
    assert info.frame_count == 25
    assert 10 < info.frame_rate < 11  # average rate of the 0.08-0.10 s intervals
    assert info.rotation == 180


# ------------------------------------------------------------------------------------------- errors


def assert_refused(source, *needles: str) -> None:
    """probe(source) raises an InputError with a one-line message holding each needle."""
    with pytest.raises(InputError) as excinfo:
        probe(source)
    assert_one_line_message(excinfo, *needles)


def test_missing_file(tmp_path):
    assert_refused(tmp_path / "nope.mp4", "nope.mp4", "does not exist")


def test_empty_file(tmp_path):
    (tmp_path / "empty.mp4").write_bytes(b"")
    assert_refused(tmp_path / "empty.mp4", "empty.mp4", "0 bytes")


@pytest.mark.parametrize("name", ["notes.txt", "notes.mp4"])
def test_text_file_is_not_a_video(tmp_path, name):
    (tmp_path / name).write_text("this is not a video\n" * 20)
    assert_refused(tmp_path / name, name, "not a video")


def test_audio_only_file_has_no_video_stream(tmp_path):
    path = tmp_path / "tone.wav"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    assert_refused(path, "tone.wav", "no video stream", "audio")


NO_FRAMES = "contains no decodable video frames; the file is corrupt or truncated"


def test_header_only_file_has_no_frames(make_clip, tmp_path):
    data = make_clip("full.mkv", count=4).read_bytes()
    cut = tmp_path / "header-only.mkv"
    cut.write_bytes(data[:700])  # the Matroska header survives, no complete frame does
    assert_refused(cut, f"input '{cut}' {NO_FRAMES}")


def test_y4m_header_without_frames(tmp_path):
    path = tmp_path / "empty.y4m"
    path.write_bytes(b"YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n")
    assert_refused(path, f"input '{path}' {NO_FRAMES}")


def test_packets_that_do_not_decode(make_clip, tmp_path):
    """A well-formed container whose video packets are garbage: the decoder fails on every one."""
    source = av.open(str(make_clip("good.mkv", count=4)))
    broken = tmp_path / "garbage.mkv"
    with source, av.open(str(broken), "w") as out:
        stream = out.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(source.streams.video[0]):
            if packet.size:
                garbage = av.Packet(b"\xff" * packet.size)
                garbage.pts, garbage.dts, garbage.time_base = packet.pts, packet.dts, packet.time_base
                garbage.stream = stream
                out.mux(garbage)
    assert_refused(broken, f"input '{broken}' {NO_FRAMES}")


def test_raw_yuv_is_refused_with_a_hint(tmp_path):
    (tmp_path / "clip.yuv").write_bytes(b"\x80" * 4096)
    assert_refused(tmp_path / "clip.yuv", "clip.yuv", "y4m")


def test_permission_denied(tmp_path, monkeypatch, make_clip):
    path = make_clip("locked.mkv", count=1)
    if os.geteuid() == 0:  # root reads anything; simulate what a normal user would see
        monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)
    else:
        path.chmod(0)
    assert_refused(path, "locked.mkv", "permission denied")


def test_folder_without_images(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    (folder / "readme.txt").write_text("no images here")
    assert_refused(folder, "frames", "no PNG/JPEG/TIFF/BMP images")


def test_glob_without_matches(tmp_path):
    assert_refused(str(tmp_path / "frames" / "*.png"), "*.png", "matches no")


def test_truncated_mp4_without_index(shared_data, tmp_path):
    """An mp4 whose index (moov) is at the end cannot be opened once cut: an InputError, not a crash."""
    data = (shared_data / "clips" / "bikes-640x272.mp4").read_bytes()
    cut = tmp_path / "half.mp4"
    cut.write_bytes(data[: len(data) // 2])
    assert_refused(cut, "half.mp4", "truncated")


def test_frame_folder_is_probed(tmp_path):
    import cv2

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"{i}.png"), np.zeros((20, 30, 3), np.uint8))
    info = probe(folder, frame_rate=Fraction(30))
    assert (info.kind, info.width, info.height, info.frame_count) == ("frames", 30, 20, 3)
    assert info.frame_rate == 30 and info.time_base is None
    assert isinstance(info.source, str) and Path(info.source) == folder
