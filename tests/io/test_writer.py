"""Tests for vrestore.io.writer: lossless identity, VFR timestamps, audio copy, colour, depth, rotation, cleanup."""

from __future__ import annotations

import itertools
import logging
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from vrestore.errors import InputError, UsageError
from vrestore.frame import Frame
from vrestore.io.info import ColorTags, VideoInfo
from vrestore.io.output_check import temp_path_for
from vrestore.io.writer import open_writer
from vrestore.options import EncodeOptions

CLIPS = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "clips"
FAST = EncodeOptions(preset="ultrafast")
SWS = {"bt709": "ITU709", "smpte170m": "ITU601"}


# --------------------------------------------------------------------------------------------- helpers


def as_fraction(value: Any) -> Fraction:
    """Fraction from a PyAV rational (Fraction on av 18, AVRational on av 19)."""
    return Fraction(int(value.numerator), int(value.denominator))


def frames_info(width: int = 64, height: int = 48, **overrides: Any) -> VideoInfo:
    """A source description that needs no file (kind 'frames': nothing to demux)."""
    values: dict[str, Any] = dict(
        source="frames/",
        kind="frames",
        width=width,
        height=height,
        time_base=Fraction(1, 1000),
        frame_rate=Fraction(25),
        start_pts=0,
        pix_fmt="rgb24",
    )
    values.update(overrides)
    return VideoInfo(**values)


def random_images(count: int, width: int, height: int, *, deep: bool = False, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    dtype, peak = (np.uint16, 65536) if deep else (np.uint8, 256)
    return [rng.integers(0, peak, size=(height, width, 3), dtype=dtype) for _ in range(count)]


def smooth_images(count: int, width: int, height: int, *, deep: bool = False) -> list[np.ndarray]:
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    peak = 65535 if deep else 255
    out = []
    for i in range(count):
        rgb = np.stack([0.1 + 0.7 * xx / width, 0.1 + 0.8 * yy / height, np.full_like(xx, 0.3 + 0.05 * i)], -1)
        out.append(np.round(rgb * peak).astype(np.uint16 if deep else np.uint8))
    return out


def write_all(dest: Path, info: VideoInfo, frames: list[Frame], encode: EncodeOptions = FAST, **kw: Any) -> Any:
    height, width = frames[0].image.shape[:2]
    with open_writer(dest, info, width=width, height=height, encode=encode, **kw) as writer:
        for frame in frames:
            writer.write(frame)
        summary = writer.close()
    assert writer.frames_written == len(frames)
    return summary


def cfr_frames(images: list[np.ndarray], step: int = 40, tb: Fraction = Fraction(1, 1000)) -> list[Frame]:
    return [Frame(img, i * step, tb, i) for i, img in enumerate(images)]


def read_video(path: Path, fmt: str = "rgb24", matrix: str | None = None) -> tuple[list[np.ndarray], list[float], Any]:
    """Decoded images, presentation times in seconds (sorted) and (pix_fmt, colour ids, w, h) of ``path``."""
    images, times = [], []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        cc = stream.codec_context
        meta = dict(
            pix_fmt=cc.pix_fmt,
            colorspace=int(cc.colorspace),
            color_range=int(cc.color_range),
            primaries=int(cc.color_primaries),
            trc=int(cc.color_trc),
            width=stream.width,
            height=stream.height,
        )
        for frame in container.decode(stream):
            kwargs: dict[str, Any] = {"format": fmt}
            if matrix:
                kwargs.update(src_colorspace=SWS[matrix], src_color_range="MPEG")
            images.append(frame.to_ndarray(**kwargs))
            times.append(float(frame.pts * as_fraction(frame.time_base)))
            meta["rotation"] = frame.rotation
    return images, sorted(times), meta


def audio_packets(path: Path) -> list[tuple[bytes, float]]:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return [(bytes(p), float(p.pts * as_fraction(p.time_base))) for p in container.demux(stream) if p.size]


def audio_codec(path: Path) -> str | None:
    with av.open(str(path)) as container:
        return container.streams.audio[0].codec_context.name if container.streams.audio else None


def decode_source(path: Path, width: int, height: int, limit: int | None = None) -> list[Frame]:
    """Frames of a real clip, downscaled (speed), with its pts in display order (as a reader must give them)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        decoded = list(itertools.islice(container.decode(stream), limit))
        tb = as_fraction(stream.time_base)
    pts = sorted(f.pts for f in decoded)  # some files (the AVI) label frames in decode order
    return [
        Frame(f.to_ndarray(format="rgb24", width=width, height=height), pts[i], tb, i) for i, f in enumerate(decoded)
    ]


def leftovers(folder: Path, keep: set[str] = frozenset()) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name not in keep)


def clip(name: str) -> Path:
    path = CLIPS / name
    if not path.is_file():
        pytest.skip(f"real clip {path} not found (expected the sibling folder ../shared/data of the repo)")
    return path


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


# --------------------------------------------------------------------------------------------- timing


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


# --------------------------------------------------------------------------------------------- audio


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


# --------------------------------------------------------------------------------------------- colour, depth, size


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
