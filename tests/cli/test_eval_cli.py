"""`vrestore eval` through the CLI: outputs, dataset modes, exit codes."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from tests.helpers import assert_one_line_error

LOSSLESS_RGB = {"codec": "ffv1", "pix_fmt": "bgr0"}


def lossless(make_clip, name, images):
    return make_clip(name, images, **LOSSLESS_RGB)


def test_same_file_is_inf_and_one(run_cli, make_clip):
    clip = make_clip("a.mkv", count=4, **LOSSLESS_RGB)
    result = run_cli("eval", clip, clip, "--json", "--device", "cpu")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    video = report["videos"][0]
    assert video["psnr"] == "inf" and video["ssim"] == pytest.approx(1.0) and video["identical_frames"] == 4
    assert [f["psnr"] for f in video["per_frame"]] == ["inf"] * 4
    assert [f["frame"] for f in video["per_frame"]] == [0, 1, 2, 3]
    assert report["mean"]["psnr"] == "inf" and report["mean"]["frames"] == 4


def test_same_file_table_says_inf(run_cli, make_clip):
    clip = make_clip("a.mkv", count=2, **LOSSLESS_RGB)
    result = run_cli("eval", clip, clip)
    assert result.code == 0, result.stderr
    assert "inf" in result.stdout and "1.000000" in result.stdout
    assert "2 identical frame(s)" in result.stdout


def test_frame_count_mismatch_exits_3_with_both_counts(run_cli, make_clip):
    a = make_clip("a.mkv", count=3, **LOSSLESS_RGB)
    b = make_clip("b.mkv", count=5, **LOSSLESS_RGB)
    result = run_cli("eval", a, b)
    assert_one_line_error(result, 3, "has 3 frames", "has 5")
    allowed = run_cli("eval", a, b, "--allow-length-mismatch", "--json")
    assert allowed.code == 0 and json.loads(allowed.stdout)["videos"][0]["frames"] == 3


def test_size_mismatch_exits_3(run_cli, make_clip):
    a = make_clip("a.mkv", count=1, size=(48, 40), **LOSSLESS_RGB)
    b = make_clip("b.mkv", count=1, size=(40, 40), **LOSSLESS_RGB)
    result = run_cli("eval", a, b)
    assert result.code == 3 and "48x40" in result.stderr and "40x40" in result.stderr


def test_folders_of_videos_csv_table_and_per_frame(run_cli, make_clip, gradients, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "ref").mkdir()
    clean = gradients(3, 48, 40)
    dirty = [np.clip(im.astype(int) + 5, 0, 255).astype(np.uint8) for im in clean]
    for name in ("x", "y"):
        lossless(make_clip, f"ref/{name}.mkv", clean)
        lossless(make_clip, f"out/{name}.mkv", dirty)
    table = run_cli("eval", "out", "ref", "--csv", "scores.csv", "--y-channel", "--per-frame")
    assert table.code == 0, table.stderr
    assert "out/x.mkv" in table.stdout and "out/y.mkv" in table.stdout and "mean of videos" in table.stdout
    assert "frame 2" in table.stdout and "Y (BT.601)" in table.stdout
    rows = list(csv.DictReader((tmp_path / "scores.csv").open()))
    assert len(rows) == 6 and [r["frame"] for r in rows[:3]] == ["0", "1", "2"]
    assert all(float(r["psnr"]) > 30 for r in rows)


def test_folder_names_must_match(run_cli, make_clip, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "ref").mkdir()
    make_clip("out/x.mkv", count=1, **LOSSLESS_RGB)
    make_clip("ref/z.mkv", count=1, **LOSSLESS_RGB)
    result = run_cli("eval", tmp_path / "out", tmp_path / "ref")
    assert result.code == 3 and "--pairs" in result.stderr


def test_frame_folders_and_globs(run_cli, gradients, tmp_path):
    import cv2

    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for i, image in enumerate(gradients(3, 32, 24)):
            cv2.imwrite(str(tmp_path / name / f"{i:03d}.png"), image[..., ::-1])
    result = run_cli("eval", tmp_path / "a", str(tmp_path / "b" / "*.png"), "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["videos"][0]["identical_frames"] == 3


def test_pairs_file(run_cli, make_clip, tmp_path):
    a = make_clip("a.mkv", count=2, **LOSSLESS_RGB)
    (tmp_path / "pairs.csv").write_text("restored,reference\na.mkv,a.mkv\n")
    result = run_cli("eval", "--pairs", tmp_path / "pairs.csv", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["videos"][0]["restored"] == str(a)


def test_align_by_pts(run_cli, make_clip, gradients):
    from fractions import Fraction

    images = gradients(4, 48, 40)
    tb = Fraction(1, 100)
    ref = make_clip("ref.mkv", images, pts=[0, 4, 8, 12], time_base=tb, **LOSSLESS_RGB)
    out = make_clip("out.mkv", [images[0], images[3]], pts=[0, 12], time_base=tb, **LOSSLESS_RGB)
    result = run_cli("eval", out, ref, "--align", "pts", "--allow-length-mismatch", "--json")
    assert result.code == 0, result.stderr
    assert [f["frame"] for f in json.loads(result.stdout)["videos"][0]["per_frame"]] == [0, 3]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((), "REFERENCE"),
        (("--align", "time"), "--align time"),
        (("--crop-border", "30"), "--crop-border 30"),
        (("--device", "tpu"), "tpu"),
    ],
)
def test_usage_errors_exit_2(run_cli, make_clip, args, needle):
    clip = make_clip("a.mkv", count=1, size=(48, 40), **LOSSLESS_RGB)
    files = () if not args else (clip, clip)
    result = run_cli("eval", *files, *args)
    assert result.code == 2, result.stderr
    assert needle in result.stderr


def test_unwritable_csv_exits_4(run_cli, make_clip, tmp_path):
    clip = make_clip("a.mkv", count=1, **LOSSLESS_RGB)
    result = run_cli("eval", clip, clip, "--csv", tmp_path / "missing" / "scores.csv")
    assert result.code == 4 and "--csv" in result.stderr


def test_plot_draws_one_curve_per_pair(run_cli, make_clip, gradients, tmp_path):
    from vrestore.compare.plot import PALETTE
    from vrestore.io.frames import read_image

    clean = gradients(5, 48, 32)
    noisy = [np.clip(im.astype(int) + np.random.default_rng(i).integers(-9, 9, im.shape), 0, 255).astype(np.uint8)
             for i, im in enumerate(clean)]
    ref, out = lossless(make_clip, "ref.mkv", clean), lossless(make_clip, "noisy.mkv", noisy)
    plot = tmp_path / "psnr.png"
    result = run_cli("eval", out, ref, "--plot", plot, "--quiet")
    assert result.code == 0, result.stderr
    image = read_image(plot)
    assert image.shape == (480, 960, 3)
    assert (image == np.array(PALETTE[0], np.uint8)).all(axis=-1).sum() > 100  # the curve's colour
