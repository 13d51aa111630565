"""Whole-pipeline round trips (reader -> engine -> writer) with an identity model."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from torch import nn

from tests.helpers import count_probes_and_checks
from vrestore.api import restore_video
from vrestore.io.probe import probe
from vrestore.io.reader import open_reader
from vrestore.models import LoadedModel, ModelSpec
from vrestore.options import ClipOptions, EncodeOptions, RestoreOptions, TileOptions

IDENTITY = ModelSpec(id="identity.test", factory=nn.Identity, task="denoise")


def identity_model() -> LoadedModel:
    return LoadedModel(IDENTITY, nn.Identity())


def noise_images(count: int, width: int, height: int, deep: bool = False) -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    dtype, peak = (np.uint16, 65535) if deep else (np.uint8, 255)
    return [rng.integers(0, peak + 1, (height, width, 3), dtype=np.int64).astype(dtype) for _ in range(count)]


def read_images(path: Path) -> list[np.ndarray]:
    with open_reader(path) as reader:
        return [frame.image for frame in reader]


@pytest.mark.parametrize(
    ("deep", "pix_fmt"), [(False, "bgr0"), (True, "gbrp16le")], ids=["8-bit", "16-bit"]
)
def test_lossless_identity_is_bit_exact(make_clip, tmp_path, deep, pix_fmt):
    images = noise_images(7, 50, 38, deep=deep)
    source = make_clip("in.mkv", images, codec="ffv1", pix_fmt=pix_fmt)
    output = tmp_path / "out.mkv"
    options = RestoreOptions(tile=TileOptions(size=16, overlap=4), clip=ClipOptions(length=3),
                             encode=EncodeOptions(codec="ffv1"))
    result = restore_video(source, output, options, model=identity_model())
    assert result.frames == 7
    restored = read_images(output)
    assert len(restored) == 7
    for before, after in zip(images, restored, strict=True):
        assert after.dtype == before.dtype
        np.testing.assert_array_equal(after, before)


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]


def test_audio_tags_and_timing_survive(make_clip, tmp_path):
    tags = {"matrix": "bt709", "range": "tv", "primaries": "bt709", "transfer": "bt709"}
    pts = [0, 3, 5, 9, 10, 14, 20, 21]
    source = make_clip("in.mkv", count=8, size=(96, 64), codec="libx264", audio=True, tags=tags,
                       pts=pts, time_base=Fraction(1, 25))
    output = tmp_path / "out.mkv"
    restore_video(source, output, RestoreOptions(), model=identity_model())
    after = probe(output)
    assert after.color.matrix == "bt709" and after.color.range == "tv"
    assert after.color.primaries == "bt709" and after.color.transfer == "bt709"
    assert audio_packets(output) == audio_packets(source)
    with open_reader(source) as a, open_reader(output) as b:
        times_in = [float(f.pts * f.time_base) for f in a]
        times_out = [float(f.pts * f.time_base) for f in b]
    assert len(times_out) == len(times_in) == 8
    assert times_out == pytest.approx(times_in, abs=1e-3)


def test_ten_bit_input_gives_ten_bit_output(make_clip, tmp_path):
    source = make_clip("in.mkv", count=4, size=(64, 48), deep=True, codec="libx265", pix_fmt="yuv420p10le",
                       options={"x265-params": "log-level=error"})
    output = tmp_path / "out.mp4"
    restore_video(source, output, RestoreOptions(), model=identity_model())
    info = probe(output)
    assert info.bit_depth == 10
    assert read_images(output)[0].dtype == np.uint16


def test_odd_size(make_clip, tmp_path):
    source = make_clip("in.mp4", count=5, size=(243, 137), codec="libx264", pix_fmt="yuv444p")
    output = tmp_path / "out.mp4"
    result = restore_video(source, output, RestoreOptions(model="tiny.test", tile=TileOptions(size=64)))
    info = probe(output)
    assert (info.width, info.height) == (243, 137) and result.frames == 5


def test_the_input_is_probed_once_and_the_output_checked_once(make_clip, tmp_path, monkeypatch):
    calls = count_probes_and_checks(monkeypatch)
    source = make_clip("in.mp4", count=4, size=(48, 32), codec="libx264", pix_fmt="yuv420p")
    result = restore_video(source, tmp_path / "out.mkv", RestoreOptions(), model=identity_model())
    assert result.frames == 4 and calls == {"probe": 1, "check": 1}
