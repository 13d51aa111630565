"""The public Python API (``vrestore.restore_video``, ``vrestore.load_model``) on a tiny clip with ``tiny.test``.

Only the package-level entry points are used, so these tests hold whatever shape the pipeline takes inside.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
import torch

import vrestore
from vrestore.errors import InputError, OutputError, UsageError
from vrestore.options import EncodeOptions, RestoreOptions

LOSSLESS_RGB = {"codec": "ffv1", "pix_fmt": "bgr0"}
FFV1 = EncodeOptions(codec="ffv1")
TINY = RestoreOptions(model="tiny.test", device="cpu", dtype="fp32", encode=FFV1)
PTS = [0, 40, 120, 130, 200]  # irregular (VFR) timestamps in ms
BORDER = 4  # tiny.test sees 2 pixels around each one; how the frame edge is padded is the engine's choice


def noisy_images(count: int = len(PTS), width: int = 64, height: int = 48) -> list[np.ndarray]:
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 3, yy * 4, np.full_like(xx, 128)], -1).astype(float)
    return [np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8) for _ in range(count)]


def decoded(path) -> tuple[list[np.ndarray], list[int]]:
    """RGB images and pts in milliseconds (sorted) of a video file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = list(container.decode(stream))
        images = [f.to_ndarray(format="rgb24") for f in frames]
        times = sorted(round(float(f.pts * stream.time_base) * 1000) for f in frames)
    return images, times


@pytest.fixture()
def source(make_clip):
    return make_clip("in.mkv", noisy_images(), pts=PTS, time_base=Fraction(1, 1000), **LOSSLESS_RGB)


def test_restore_video_applies_the_model_to_every_frame_and_keeps_the_timing(source, tmp_path):
    images = noisy_images()
    result = vrestore.restore_video(source, tmp_path / "out.mkv", TINY)

    assert (result.model, result.frames, result.width, result.height) == ("tiny.test", len(PTS), 64, 48)
    assert result.output == str(tmp_path / "out.mkv") and result.input == str(source)
    out, times = decoded(tmp_path / "out.mkv")
    assert times == PTS
    module = vrestore.load_model("tiny.test", device="cpu", dtype="fp32").module
    with torch.no_grad():
        x = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float() / 255
        expected = (module(x).clamp(0, 1) * 255).round().permute(0, 2, 3, 1).to(torch.uint8).numpy()
    inner = np.s_[:, BORDER:-BORDER, BORDER:-BORDER]
    got = np.stack(out)
    assert np.abs(got[inner].astype(int) - expected[inner]).max() <= 1
    assert np.abs(got.astype(int) - np.stack(images)).mean() > 1  # the model did change the frames


def test_restore_video_reports_progress_from_zero_to_the_total(make_clip, tmp_path):
    source = make_clip("cfr.mkv", noisy_images(7), **LOSSLESS_RGB)  # constant rate: the probed total is exact
    reports = []
    vrestore.restore_video(source, tmp_path / "out.mkv", TINY, progress=reports.append)
    assert reports[0].frames_done == 0 and reports[0].frames_total == 7
    assert reports[-1].frames_done == 7
    assert [r.frames_done for r in reports] == sorted(r.frames_done for r in reports)


def test_restore_video_writes_beside_the_input_by_default(source):
    from vrestore.api import default_output_path

    result = vrestore.restore_video(source, None, TINY)
    assert result.output == str(source.with_name("in_restored.mkv")) == str(default_output_path(source))
    assert decoded(source.with_name("in_restored.mkv"))[1] == PTS
    assert default_output_path(source.with_name("a.mp4")).name == "a_restored.mp4"
    assert default_output_path(source.with_name("a.avi")).name == "a_restored.mkv"  # a container we do not write


def test_an_existing_output_is_kept_unless_overwrite_and_the_input_is_never_touched(source, tmp_path):
    destination = tmp_path / "out.mkv"
    destination.write_bytes(b"precious")
    before = source.read_bytes()
    with pytest.raises(OutputError, match="exists"):
        vrestore.restore_video(source, destination, TINY)
    assert destination.read_bytes() == b"precious"
    vrestore.restore_video(source, destination, RestoreOptions(**{**TINY.__dict__, "overwrite": True}))
    assert len(decoded(destination)[0]) == len(PTS)
    assert source.read_bytes() == before


def test_a_model_loaded_once_gives_the_same_output_as_loading_per_call(source, tmp_path):
    model = vrestore.load_model("tiny.test", device="cpu", dtype="fp32")
    a = vrestore.restore_video(source, tmp_path / "a.mkv", TINY, model=model)
    b = vrestore.restore_video(source, tmp_path / "b.mkv", TINY)
    assert a.frames == b.frames == len(PTS)
    assert all(np.array_equal(x, y) for x, y in zip(decoded(tmp_path / "a.mkv")[0], decoded(tmp_path / "b.mkv")[0],
                                                    strict=True))


def test_bad_requests_raise_one_line_errors_before_writing_anything(source, tmp_path):
    with pytest.raises(UsageError, match="tiny.test"):
        vrestore.load_model("tiny.tset")
    with pytest.raises(InputError, match="does not exist"):
        vrestore.restore_video(tmp_path / "missing.mkv", tmp_path / "out.mkv", TINY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.mkv"]
