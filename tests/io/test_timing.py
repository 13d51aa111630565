"""Tests for vrestore.io.timing through the writer: VFR timestamps kept, frames without pts numbered, order checked."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from tests.helpers import leftovers
from tests.io.writing import (
    audio_packets,
    clip,
    decode_source,
    frames_info,
    read_video,
    smooth_images,
    write_all,
)
from vrestore.errors import InputError
from vrestore.frame import Frame
from vrestore.options import EncodeOptions

VFR_MS = [0, 33, 100, 117, 200, 290, 300, 380, 460, 471, 520, 600, 640]


@pytest.mark.parametrize(
    ("ext", "tb", "start"),
    [
        ("mkv", Fraction(1, 1000), 0),
        ("mkv", Fraction(1, 1000), 1234),
        ("mp4", Fraction(1, 90000), 0),
        ("mp4", Fraction(1, 90000), 1234),
        ("mov", Fraction(1, 30000), 0),
    ],
)
def test_vfr_timestamps_are_preserved(tmp_path: Path, ext: str, tb: Fraction, start: int) -> None:
    images = smooth_images(len(VFR_MS), 64, 48)
    pts = [round(Fraction(start + ms, 1000) / tb) for ms in VFR_MS]
    frames = [Frame(img, p, tb, i) for i, (img, p) in enumerate(zip(images, pts, strict=True))]
    dest = tmp_path / f"out.{ext}"
    write_all(dest, frames_info(time_base=tb), frames, EncodeOptions())  # default preset: B-frames, negative dts
    _, times, _ = read_video(dest)
    want = [float(p * tb) for p in pts]
    assert len(times) == len(want)
    assert max(abs(a - b) for a, b in zip(times, want, strict=True)) < 1e-3
    if ext == "mkv":  # millisecond source times survive Matroska's 1 ms clock exactly
        assert [round(t * 1000) for t in times] == [start + ms for ms in VFR_MS]


def test_frames_without_pts_are_numbered_at_the_frame_rate(tmp_path: Path) -> None:
    images = smooth_images(5, 32, 32)
    frames = [Frame(img, None, None, i) for i, img in enumerate(images)]
    dest = tmp_path / "out.mp4"
    write_all(dest, frames_info(32, 32, time_base=None, frame_rate=Fraction(30)), frames)
    _, times, _ = read_video(dest)
    assert times == pytest.approx([i / 30 for i in range(5)], abs=1e-6)


def test_non_increasing_timestamps_raise_and_leave_nothing(tmp_path: Path) -> None:
    images = smooth_images(3, 32, 32)
    frames = [
        Frame(images[0], 0, Fraction(1, 25), 0),
        Frame(images[1], 1, Fraction(1, 25), 1),
        Frame(images[2], 1, Fraction(1, 25), 2),
    ]
    dest = tmp_path / "out.mkv"
    with pytest.raises(InputError, match="strictly increase"):
        write_all(dest, frames_info(32, 32, time_base=Fraction(1, 25)), frames)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("name", "ext", "limit"),
    [
        ("fire-720p-vfr-audio.mp4", "mp4", None),
        ("plaza-720p-audio-irregular-pts.avi", "mkv", 150),
        ("pancake-426x240-vfr-opus.mkv", "mp4", 150),
    ],
)
def test_real_vfr_clips_keep_timestamps_and_audio(tmp_path: Path, name: str, ext: str, limit: int | None) -> None:
    from vrestore.io.probe import probe

    source = clip(name)
    info = probe(source)
    frames = decode_source(source, 160, 90, limit)
    dest = tmp_path / f"out.{ext}"
    summary = write_all(dest, info, frames)
    _, times, _ = read_video(dest)
    want = [float(f.pts * f.time_base) for f in frames]
    assert len(times) == len(frames) == summary.frames
    assert max(abs(a - b) for a, b in zip(times, want, strict=True)) < 1e-3
    src_audio, out_audio = audio_packets(source), audio_packets(dest)
    assert [p for p, _ in out_audio] == [p for p, _ in src_audio]  # every packet, byte-identical
    assert max(abs(a - b) for (_, a), (_, b) in zip(src_audio, out_audio, strict=True)) < 1e-3


# --------------------------------------------------------------------------------------------- the clock itself


def test_rescale_rounds_to_nearest_half_up() -> None:
    from vrestore.io.timing import rescale

    assert rescale(3, Fraction(1, 1000), Fraction(1, 90000)) == 270
    assert rescale(1, Fraction(1, 3), Fraction(1, 2)) == 1  # 2/3 of a unit
    assert rescale(1, Fraction(1, 4), Fraction(1, 2)) == 1  # exactly half: up
    assert rescale(1, Fraction(1, 5), Fraction(1, 2)) == 0  # 2/5 of a unit


def test_time_base_is_the_sources_else_one_frame_at_its_rate_else_25_fps() -> None:
    from vrestore.io.timing import choose_time_base

    assert choose_time_base(frames_info(time_base=Fraction(1, 90000))) == Fraction(1, 90000)
    assert choose_time_base(frames_info(time_base=None, frame_rate=Fraction(30000, 1001))) == Fraction(1001, 30000)
    assert choose_time_base(frames_info(time_base=None, frame_rate=None)) == Fraction(1, 25)


@pytest.mark.parametrize(("tb", "scale"), [(Fraction(1, 25), 1000), (Fraction(1, 90000), 90000),
                                           (Fraction(1, 30000), 30000), (Fraction(1, 10_000_019), 10_000_019)])
def test_movie_timescale_is_a_multiple_of_milliseconds_and_of_the_time_base(tb: Fraction, scale: int) -> None:
    from vrestore.io.timing import FrameClock

    assert FrameClock(frames_info(time_base=tb), Path("o.mp4")).movie_timescale() == scale


def test_clock_numbers_frames_without_pts_and_refuses_going_back() -> None:
    from vrestore.io.timing import FrameClock

    image = smooth_images(1, 8, 8)[0]
    clock = FrameClock(frames_info(time_base=Fraction(1, 1000), frame_rate=Fraction(25)), Path("o.mkv"))
    assert [clock.next_pts(Frame(image, None, None, i)) for i in range(3)] == [0, 40, 80]
    assert clock.next_pts(Frame(image, 9, Fraction(1, 100), 3)) == 90
    assert clock.duration(Frame(image, 10, Fraction(1, 100), 4, duration=1)) == 10
    with pytest.raises(InputError, match="strictly increase"):
        clock.next_pts(Frame(image, 90, Fraction(1, 1000), 5))
