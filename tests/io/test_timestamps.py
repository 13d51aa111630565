"""Broken input timestamps (io/timestamps.py): detected, replaced by a constant rate with one warning;
real VFR, gaps and B-frame reordering kept exactly."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from vrestore.demo import demo_clip
from vrestore.frame import Frame
from vrestore.io import timestamps
from vrestore.io.probe import probe
from vrestore.io.reader import open_reader
from vrestore.io.timestamps import Rates, broken_reason, fallback_rate, repaired_time_base

MS = Fraction(1, 1000)
TICK_90K = Fraction(1, 90000)


def broken_clip(path: Path, stamps: Sequence[int], time_base: Fraction, dts: Sequence[int] | None = None) -> Path:
    """An intra-coded 64x48 clip (nominal 25 fps) whose packets carry ``stamps`` as pts (and dts unless given)."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("mpeg4", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        video.time_base = time_base
        packets = []
        for i in range(len(stamps)):
            image = np.full((48, 64, 3), (i * 9) % 256, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, 25)
            packets += video.encode(frame)
        packets += video.encode(None)
        assert len(packets) == len(stamps)
        for k, (packet, stamp) in enumerate(zip(packets, stamps, strict=True)):
            packet.time_base = time_base
            packet.pts = stamp
            packet.dts = stamp if dts is None else dts[k]
            out.mux(packet)
    return path


def read_all(source) -> list[Frame]:
    with open_reader(source) as reader:
        return list(reader)


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "vrestore" and r.levelno >= logging.WARNING]


def source_pts(path: Path) -> list[int]:
    """The decoded frames' pts straight from PyAV."""
    with av.open(str(path)) as container:
        return [f.pts for f in container.decode(video=0)]


# ------------------------------------------------------------------------------- broken from the start


@pytest.mark.parametrize(
    ("name", "stamps", "time_base", "interval"),
    [
        ("zero-90k.mp4", [0] * 20, TICK_90K, 3600),  # the 1/90000 time base with pts 0 everywhere
        ("zero.mkv", [0] * 20, MS, 40),
        ("duplicated.mkv", [40 * (i // 2) for i in range(20)], MS, 40),
        ("one-tick-apart.mp4", list(range(20)), TICK_90K, 3600),  # 90000 fps: absurd
    ],
)
def test_unusable_timestamps_are_replaced_by_a_constant_rate(tmp_path, caplog, name, stamps, time_base, interval):
    path = broken_clip(tmp_path / name, stamps, time_base)
    assert source_pts(path) == stamps  # the problem exists in the file
    info = probe(path)
    assert info.retimed is not None and info.frame_rate == 25 and info.time_base == time_base
    with caplog.at_level(logging.INFO, logger="vrestore"):
        frames = read_all(path)
    assert [f.pts for f in frames] == [interval * i for i in range(20)]
    assert all(f.time_base == time_base and f.duration == interval for f in frames)
    [warning] = warnings_of(caplog)
    assert "unusable timestamps" in warning and "constant 25 fps" in warning and name in warning


def test_a_time_base_too_coarse_for_the_rate_is_replaced():
    assert repaired_time_base(Fraction(1, 12800), Fraction(25)) == Fraction(1, 12800)
    assert repaired_time_base(Fraction(1, 10), Fraction(25)) == Fraction(1, 25)
    assert repaired_time_base(None, Fraction(30000, 1001)) == Fraction(1001, 30000)


def test_detection_rules():
    assert broken_reason([0, 0, 0], MS) == "all of the first 3 frames have pts 0"
    assert broken_reason([0, 40, 40, 80], MS) == "1 of the first 4 frames repeat a timestamp"
    assert broken_reason([0, 1, 2, 3], TICK_90K) is not None
    # B-frames: decode order is not presentation order, but every pts is distinct
    assert broken_reason([0, 2048, 1024, 512, 1536, 4096], Fraction(1, 12800)) is None
    assert broken_reason([0, 9000, 18000, 53098], TICK_90K) is None  # real VFR
    assert broken_reason([0, 1], Fraction(1, 1000)) is None  # exactly 1000 fps is still sane
    assert broken_reason([5], MS) is None


def test_fallback_rate_order_and_sanity():
    demo = Rates(average=Fraction(2500), guessed=Fraction(25), base=None, codec=Fraction(25))
    assert fallback_rate(demo, broken_from_start=False) == 25  # 2500 fps is not sane
    # measured from the broken timestamps themselves: 10 frames in one frame's time look like 250 fps
    short = Rates(average=Fraction(250), guessed=None, base=Fraction(250), codec=Fraction(24))
    assert fallback_rate(short, broken_from_start=True) == 24
    assert fallback_rate(short, broken_from_start=False) == 250
    assert fallback_rate(Rates(average=Fraction(30000, 1001)), broken_from_start=False) == Fraction(30000, 1001)
    assert fallback_rate(Rates(guessed=Fraction(90000), codec=Fraction(1, 2)), broken_from_start=True) == 25
    assert timestamps.DEFAULT_FPS == 25


# --------------------------------------------------------------------------- broken later in the stream


def test_timestamps_that_go_back_later_are_placed_one_frame_on(tmp_path, caplog):
    """pts restart half-way (as in two files joined): frames that do not advance move one frame on, not one tick."""
    stamps = [1000 + 40 * (i % 20) for i in range(40)]
    path = broken_clip(tmp_path / "restart.mkv", stamps, MS, dts=list(range(40)))
    assert source_pts(path) == stamps
    assert probe(path).retimed is None  # the first frames look right: decided while reading
    with caplog.at_level(logging.INFO, logger="vrestore"):
        frames = read_all(path)
    pts = [f.pts for f in frames]
    assert len(frames) == 40
    assert pts[:12] == stamps[:12]  # kept until the problem
    assert all(b - a == 40 for a, b in zip(pts, pts[1:], strict=False))
    [warning] = warnings_of(caplog)
    assert "repeats or reverses a timestamp at frame" in warning and "1/25 s" in warning


def test_restamper_keeps_advancing_timestamps_and_gaps():
    from vrestore.io.info import VideoInfo

    info = VideoInfo("x", "video", 8, 8, time_base=MS, frame_rate=Fraction(25), start_pts=0, fallback_rate=Fraction(25))
    stamper = timestamps.Restamper(info)
    got = [stamper.stamp(i, p) for i, p in enumerate([0, 33, 500, 500, 480, 700, None])]
    assert got == [(0, None), (33, None), (500, None), (540, 40), (580, 40), (700, None), (None, None)]


# ------------------------------------------------------------------------------------- real footage


def test_bundled_demo_clip_reads_as_100_frames_at_25_fps(caplog):
    info = probe(demo_clip())
    assert (info.frame_count, info.frame_rate, info.duration_s) == (100, 25, 4.0)
    with caplog.at_level(logging.INFO, logger="vrestore"):
        frames = read_all(demo_clip())
    assert len(frames) == 100
    assert all(f.time_base == Fraction(1, 12800) for f in frames)
    assert [f.pts for f in frames] == [512 * i for i in range(100)]  # 40 ms apart
    assert warnings_of(caplog) == []  # its own timestamps (the first encode had left every pts at 0)


def test_restoring_the_bundled_clip_writes_frames_40_ms_apart(tmp_path):
    from vrestore.api import restore_video
    from vrestore.options import EncodeOptions, RestoreOptions

    options = RestoreOptions(model="tiny.test", encode=EncodeOptions(preset="ultrafast"))
    output = tmp_path / "restored.mp4"
    result = restore_video(demo_clip(), output, options)
    assert not any("unusable timestamps" in w for w in result.warnings)
    broken = broken_clip(tmp_path / "zero.mkv", [0] * 20, MS)
    retimed = restore_video(broken, tmp_path / "retimed.mkv", options)
    assert any("unusable timestamps" in w for w in retimed.warnings)  # never written silently
    assert output_seconds(tmp_path / "retimed.mkv") == pytest.approx([0.04 * i for i in range(20)])
    with av.open(str(output)) as container:
        stream = container.streams.video[0]
        seconds = [float(f.pts * f.time_base) for f in container.decode(stream)]
        assert stream.average_rate == 25
    assert len(seconds) == 100
    assert np.allclose(np.diff(seconds), 0.04, atol=1e-6)


REAL_CLIPS = [
    "airplane-360p-audio.mp4",
    "armwrestling-340x256.mp4",
    "basketball-426x240.mp4",
    "bikes-640x272.mp4",
    "chaplin-360p-audio-oldfilm.mp4",
    "cockatoo-720p-audio.mp4",
    "fire-720p-vfr-audio.mp4",
    "keyboard-rotation90.mov",
    "night-tram-640x360-real-degraded.mp4",
    "office-1080p-pts-gap.mp4",
    "pancake-426x240-vfr-opus.mkv",
]


@pytest.mark.parametrize("clip", REAL_CLIPS)
def test_real_clips_keep_their_timing(shared_data, caplog, clip):
    """Each clip's frames carry exactly its packets' pts in order (the AVI is covered in test_reader.py)."""
    path = shared_data / "clips" / clip
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        expected = sorted(p.pts for p in container.demux(stream) if p.size)
        native_rate = stream.average_rate
    info = probe(path)
    assert info.retimed is None and info.frame_rate == native_rate
    with caplog.at_level(logging.INFO, logger="vrestore"):
        frames = read_all(path)
    assert [f.pts for f in frames] == expected
    assert warnings_of(caplog) == []


def output_seconds(path: Path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(f.pts * f.time_base) for f in container.decode(video=0)]


def test_synth_and_compare_of_the_bundled_clip_play_at_25_fps(tmp_path):
    from vrestore.compare.run import compare_videos
    from vrestore.options import EncodeOptions
    from vrestore.synth_api import SynthOptions, synthesize

    degraded = tmp_path / "degraded.mkv"
    synth = synthesize(demo_clip(), degraded, SynthOptions(protocol="tud", seed=0, encode=EncodeOptions(codec="ffv1")))
    side_by_side = tmp_path / "compare.mp4"
    compared = compare_videos([demo_clip(), degraded], side_by_side)
    for path, warnings in ((degraded, synth.warnings), (side_by_side, compared.notes)):
        seconds = output_seconds(path)
        assert len(seconds) == 100 and np.allclose(np.diff(seconds), 0.04, atol=1e-6), path
        assert not any("unusable timestamps" in w for w in warnings), path  # the bundled clip's own are sound
    assert probe(side_by_side).duration_s == pytest.approx(4.0, abs=0.05)


def test_the_terminal_shows_a_repeated_warning_once(capsys):
    from vrestore.cli import _console

    logger = logging.getLogger("vrestore")
    saved = (logger.level, logger.propagate, list(logger.handlers))
    _console.show_warnings(True)
    try:
        for _ in range(3):
            logger.warning("input 'x' has unusable timestamps")
        logger.warning("another one")
    finally:
        logger.handlers[:] = saved[2]
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
    assert capsys.readouterr().err.count("warning: ") == 2
