"""Tests for vrestore.io.remux through the writer: audio stream copy, interleaving, re-encoding of what cannot go."""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from tests.io.writing import as_fraction, audio_codec, audio_packets, cfr_frames, smooth_images, write_all
from vrestore.frame import Frame
from vrestore.io.info import VideoInfo


def test_audio_is_stream_copied(tmp_path: Path, make_clip: Any) -> None:
    source = make_clip("src.mp4", count=25, codec="libx264", audio=True)
    info = VideoInfo(
        source=str(source), kind="video", width=64, height=48, time_base=Fraction(1, 12800), frame_rate=Fraction(25)
    )
    frames = [Frame(img, i * 512, Fraction(1, 12800), i) for i, img in enumerate(smooth_images(25, 64, 48))]
    for ext in ("mkv", "mp4"):
        dest = tmp_path / f"out.{ext}"
        summary = write_all(dest, info, frames)
        assert summary.streams == ("audio#1 aac copied",)
        assert [p for p, _ in audio_packets(dest)] == [p for p, _ in audio_packets(source)]


def _clip_with_audio(path: Path, codec: str, rate: int, seconds: float = 1.0) -> Path:
    """A tiny ffv1 clip with a mono ``codec`` audio track (interleaved)."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("ffv1", rate=25)
        video.width, video.height, video.pix_fmt = 32, 32, "yuv420p"
        audio = out.add_stream(codec, rate=rate, layout="mono")
        fmt = "s16" if codec == "pcm_s16le" else "flt"
        step = rate // 25
        for i in range(int(25 * seconds)):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), (8 * i) % 256, np.uint8), format="rgb24")
            frame.pts = i
            out.mux(video.encode(frame.reformat(format="yuv420p")))
            wave = 0.1 * np.sin(np.arange(i * step, (i + 1) * step) / 5.0)
            block = (wave * 32767).astype(np.int16) if fmt == "s16" else wave.astype(np.float32)
            sound = av.AudioFrame.from_ndarray(block[None, :], format=fmt, layout="mono")
            sound.sample_rate, sound.pts = rate, i * step
            out.mux(audio.encode(sound))
        out.mux(video.encode(None))
        out.mux(audio.encode(None))
    return path


def test_long_output_is_interleaved(tmp_path: Path) -> None:
    """Audio is muxed as the video advances, not dumped at the end (beyond the muxer's 10 s buffer)."""
    seconds = 14
    source = _clip_with_audio(tmp_path / "src.mkv", "pcm_s16le", 8000, seconds=seconds)
    info = VideoInfo(
        source=str(source), kind="video", width=32, height=32, time_base=Fraction(1, 1000), frame_rate=Fraction(25)
    )
    flat = np.full((16, 16, 3), 100, np.uint8)
    dest = tmp_path / "out.mkv"
    write_all(dest, info, [Frame(flat, i * 40, Fraction(1, 1000), i) for i in range(25 * seconds)])
    video_time, worst_lead, audio_seen = 0.0, 0.0, 0
    with av.open(str(dest)) as container:
        for packet in container.demux():
            if not packet.size or packet.dts is None:
                continue
            t = float(packet.dts * as_fraction(packet.time_base))
            if packet.stream.type == "video":
                video_time = t
            else:
                audio_seen += 1
                worst_lead = max(worst_lead, t - video_time)
    assert audio_seen > 0 and worst_lead < 2.0


@pytest.mark.parametrize(
    ("codec", "rate", "ext", "target"), [("pcm_s16le", 16000, "webm", "libopus"), ("libopus", 48000, "mov", "aac")]
)
def test_audio_the_container_cannot_hold_is_reencoded_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, codec: str, rate: int, ext: str, target: str
) -> None:
    source = _clip_with_audio(tmp_path / "src.mkv", codec, rate)
    info = VideoInfo(
        source=str(source), kind="video", width=32, height=32, time_base=Fraction(1, 1000), frame_rate=Fraction(25)
    )
    frames = cfr_frames(smooth_images(25, 32, 32))
    dest = tmp_path / f"out.{ext}"
    with caplog.at_level(logging.WARNING, logger="vrestore"):
        summary = write_all(dest, info, frames)
    source_codec = audio_codec(source)
    assert any(source_codec in r.getMessage() and target in r.getMessage() for r in caplog.records)
    assert summary.streams == (f"audio#1 {source_codec}->{target}",)
    assert audio_codec(dest) in (target, target.removeprefix("lib"))
    with av.open(str(dest)) as container:
        seconds = sum(f.samples / f.sample_rate for f in container.decode(audio=0))
    assert abs(seconds - 1.0) < 0.1  # one second of audio, give or take the encoder's priming
