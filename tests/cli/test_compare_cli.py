from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from tests.conftest import gradient_images, write_clip
from tests.helpers import make_video
from vrestore.compare.layout import band_height
from vrestore.io.frames import read_image
from vrestore.io.probe import probe
from vrestore.io.reader import open_reader


def _frames(path):
    with open_reader(path) as reader:
        return list(reader)


@pytest.fixture()
def pair(tmp_path):
    """Two lossless RGB clips with irregular timestamps: a (6 frames) and its negative b (6 frames)."""
    pts = [0, 40, 100, 140, 200, 260]
    images = gradient_images(6, 64, 48)
    a = write_clip(tmp_path / "a.mkv", images, codec="ffv1", pix_fmt="bgr0", pts=pts, time_base=Fraction(1, 1000))
    b = write_clip(tmp_path / "b.mkv", [255 - im for im in images], codec="ffv1", pix_fmt="bgr0", pts=pts,
                   time_base=Fraction(1, 1000))
    return a, b, images


def test_side_by_side_keeps_pixels_timing_and_count(run_cli, pair, tmp_path):
    a, b, images = pair
    out = tmp_path / "cmp.mkv"
    result = run_cli("compare", a, b, "-o", out, "--codec", "ffv1", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["frames"] == 6 and result.stderr == ""
    got, src = _frames(out), _frames(a)
    band = band_height(48)
    assert [f.pts * f.time_base for f in got] == [f.pts * f.time_base for f in src]
    for frame, image in zip(got, images, strict=True):
        assert frame.image.shape == (48 + band, 64 * 2 + 4, 3)
        assert np.array_equal(frame.image[band:, :64], image)
        assert np.array_equal(frame.image[band:, 68:], 255 - image)
        assert frame.image[:band].max() > 100  # labels


def test_split_screen(run_cli, pair, tmp_path):
    a, b, images = pair
    out = tmp_path / "wipe.mkv"
    assert run_cli("compare", a, b, "--split", "-o", out, "--codec", "ffv1").code == 0
    first = _frames(out)[0].image
    band = band_height(48)
    assert np.array_equal(first[band:, :31], images[0][:, :31])
    assert np.array_equal(first[band:, 33:], 255 - images[0][:, 33:])


def test_mismatched_lengths_and_sizes_warn_and_continue(run_cli, pair, tmp_path):
    a, _, images = pair
    short = write_clip(tmp_path / "short.mkv", gradient_images(3, 32, 24), codec="ffv1", pix_fmt="bgr0")
    result = run_cli("compare", a, short, "-o", tmp_path / "c.mkv", "--codec", "ffv1")
    assert result.code == 0, result.stderr
    assert "stops at the shortest (3 frames)" in result.stderr and "letterboxed" in result.stderr
    assert len(_frames(tmp_path / "c.mkv")) == 3


def test_still_grid_with_scores(run_cli, pair, tmp_path):
    a, b, _ = pair
    out = tmp_path / "grid.png"
    result = run_cli("compare", a, b, "--frames", "0,5", "--reference", a, "-o", out, "--json")
    assert result.code == 0, result.stderr
    image = read_image(out)
    band = band_height(48)
    assert image.shape == (2 * (48 + band) + 4, 2 * 64 + 4, 3)


def test_crop_zoom_detail(run_cli, pair, tmp_path):
    a, b, images = pair
    out = tmp_path / "detail.mkv"
    assert run_cli("compare", a, b, "--crop", "10,5,16,8", "--zoom", "2", "-o", out, "--codec", "ffv1").code == 0
    first = _frames(out)[0].image
    band = band_height(16)
    assert first.shape == (16 + band, 2 * 32 + 4, 3)
    assert np.array_equal(first[band::2, 0:32:2], images[0][5:13, 10:26])


@pytest.mark.parametrize(
    ("inputs", "args", "fragment"),
    [("a", [], "2 to 4 inputs"),
     ("aba", ["--split"], "exactly two"),
     ("ab", ["--labels", "p"], "1 names for 2 inputs"),
     ("ab", ["--zoom", "2"], "give --crop"),
     ("ab", ["--frames", "a,b"], "comma-separated"),
     ("ab", ["--reference", "x.mkv"], "add --frames")],
)
def test_usage_errors(run_cli, pair, tmp_path, inputs, args, fragment):
    paths = {"a": pair[0], "b": pair[1]}
    result = run_cli("compare", *(paths[c] for c in inputs), *args, "-o", tmp_path / "o.mkv")
    assert result.code == 2, result.stderr
    assert fragment in result.stderr


def test_image_output_needs_frames(run_cli, pair, tmp_path):
    result = run_cli("compare", pair[0], pair[1], "-o", tmp_path / "o.png")
    assert result.code == 2 and "needs --frames" in result.stderr


def test_output_equal_to_an_input_is_refused(run_cli, pair):
    a, b, _ = pair
    before = a.read_bytes()
    result = run_cli("compare", a, b, "-o", b, "--overwrite")
    assert result.code == 4 and "is one of the inputs" in result.stderr
    assert a.read_bytes() == before


def test_restore_preview_only_writes_the_comparison_and_stops(run_cli, tmp_path):
    source = make_video(tmp_path / "in.mp4", frames=12, size=(64, 48))
    result = run_cli("restore", source, tmp_path / "out.mkv", "--model", "tiny.test", "--device", "cpu",
                            "--preview", "4", "--preview-only", "--json")
    assert result.code == 0, result.stderr
    assert not (tmp_path / "out.mkv").exists()
    assert probe(tmp_path / "out.preview.mp4").frame_count == 4


def test_restore_preview_then_full_run(run_cli, tmp_path):
    source = make_video(tmp_path / "in.mp4", frames=12, size=(64, 48))
    result = run_cli("restore", source, tmp_path / "out.mkv", "--model", "tiny.test", "--device", "cpu",
                            "--preview", "3")
    assert result.code == 0, result.stderr
    assert "preview of in.mp4" in result.stdout
    assert probe(tmp_path / "out.preview.mp4").frame_count == 3
    assert probe(tmp_path / "out.mkv").frame_count == 12
