"""synthesize(): the sidecar matches what was applied, outputs are reproducible, writes are atomic."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from tests.degrade.conftest import read_frames, textured_images
from tests.helpers import count_probes_and_checks
from vrestore.degrade.pipeline import read_sidecar, replay
from vrestore.errors import OutputError, UsageError
from vrestore.synth_api import SynthOptions, synthesize


def digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("options", [
    SynthOptions(seed=1, interval=3),
    SynthOptions(seed=2, interval=4, protocol="none", schedule="tud",
                 degrade=("blur", "compress:crf=30", "gaussian:sigma=12", "video"), weather="snow", strength=0.6),
    SynthOptions(seed=3, weather="haze", schedule="ramp", protocol="tud", prob=0.3),
])
def test_replaying_the_sidecar_reproduces_the_output(frame_folder, tmp_path, options):
    clean = frame_folder(count=8)
    out = tmp_path / "lq"
    result = synthesize(clean, out, options)
    assert result.frames == 8 and Path(result.sidecar) == tmp_path / "lq.synth.json"
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in clean.iterdir())  # same names
    degraded = read_frames(out)
    sidecar = read_sidecar(result.sidecar)
    assert sidecar["seed"] == options.seed and len(sidecar["frames"]) == 8
    again = replay(read_frames(clean), sidecar)
    for a, b in zip(degraded, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(degraded, read_frames(clean), strict=True))


def test_same_seed_gives_identical_bytes_and_other_seeds_differ(frame_folder, tmp_path):
    clean = frame_folder(count=6)
    runs = [synthesize(clean, tmp_path / name, SynthOptions(seed=seed, interval=2))
            for name, seed in (("a", 7), ("b", 7), ("c", 8))]
    a, b, c = (digest(Path(r.output)) for r in runs)
    assert a == b and a != c
    sides = [Path(r.sidecar).read_bytes() for r in runs]
    assert sides[0] == sides[1] and sides[0] != sides[2]


def test_mkv_output_is_lossless_and_reproducible(frame_folder, tmp_path):
    from vrestore.io.reader import open_reader

    clean = frame_folder(count=5)
    first = synthesize(clean, tmp_path / "a.mkv", SynthOptions(seed=4, interval=2))
    second = synthesize(clean, tmp_path / "b.mkv", SynthOptions(seed=4, interval=2))
    with open_reader(Path(first.output)) as r1, open_reader(Path(second.output)) as r2:
        frames1, frames2 = [f.image for f in r1], [f.image for f in r2]
    expected = replay(read_frames(clean), read_sidecar(first.sidecar))
    for x, y, z in zip(frames1, frames2, expected, strict=True):
        np.testing.assert_array_equal(x, z)  # ffv1 RGB: exactly the degraded pixels
        np.testing.assert_array_equal(x, y)
    assert Path(first.sidecar).read_bytes() == Path(second.sidecar).read_bytes()


def test_mkv_bytes_are_identical(frame_folder, tmp_path):
    clean = frame_folder(count=3)
    a = synthesize(clean, tmp_path / "a.mkv", SynthOptions(seed=4))
    b = synthesize(clean, tmp_path / "b.mkv", SynthOptions(seed=4))
    assert Path(a.output).read_bytes() == Path(b.output).read_bytes()


def test_video_input_and_lossy_codec_warns(make_clip, tmp_path):
    clip = make_clip("clean.mkv", images=textured_images(4, 32, 24))
    result = synthesize(clip, tmp_path / "lq.mp4", SynthOptions(seed=1, encode=_enc(codec="libx264")))
    assert result.frames == 4 and any("lossy" in w for w in result.warnings)


def _enc(**kwargs):
    from vrestore.options import EncodeOptions

    return EncodeOptions(**kwargs)


def test_existing_output_or_sidecar_is_refused_and_nothing_is_left_behind(frame_folder, tmp_path):
    clean = frame_folder(count=2)
    synthesize(clean, tmp_path / "lq", SynthOptions(seed=1))
    with pytest.raises(OutputError):
        synthesize(clean, tmp_path / "lq", SynthOptions(seed=1))
    (tmp_path / "other.synth.json").write_text("{}")
    with pytest.raises(OutputError, match="sidecar"):
        synthesize(clean, tmp_path / "other", SynthOptions(seed=1))
    synthesize(clean, tmp_path / "lq", SynthOptions(seed=2, overwrite=True))
    assert read_sidecar(tmp_path / "lq.synth.json")["seed"] == 2
    assert not [p for p in tmp_path.iterdir() if ".part" in p.name]


@pytest.mark.parametrize("options", [
    SynthOptions(protocol="tud", degrade=("gaussian",)),
    SynthOptions(protocol="none"),
    SynthOptions(weather="fog"),
    SynthOptions(protocol="none", degrade=("rain",)),
    SynthOptions(degrade=("gaussian:sigma=abc",)),
])
def test_bad_options_fail_before_writing(frame_folder, tmp_path, options):
    clean = frame_folder(count=2)
    with pytest.raises(UsageError):
        synthesize(clean, tmp_path / "lq", options)
    assert not (tmp_path / "lq").exists()


@pytest.mark.parametrize("kind", ["video", "frames"])
def test_the_input_is_probed_once_and_the_output_checked_once(make_clip, frame_folder, tmp_path, monkeypatch, kind):
    calls = count_probes_and_checks(monkeypatch)
    if kind == "video":
        source, output = make_clip("in.mkv", count=3, size=(32, 24)), tmp_path / "out.mkv"
    else:
        source, output = frame_folder(count=3), tmp_path / "lq"
    result = synthesize(source, output, SynthOptions(seed=1))
    assert result.frames == 3 and calls == {"probe": 1, "check": 1}
    if kind == "frames":  # the folder writer keeps the input's frame names
        assert sorted(p.name for p in output.iterdir()) == sorted(p.name for p in source.iterdir())
