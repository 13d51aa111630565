"""`vrestore eval` through the CLI."""

from __future__ import annotations

import csv
import json

import numpy as np


def lossless(make_clip, name, images):
    return make_clip(name, images, codec="ffv1", pix_fmt="bgr0")


def test_same_file_is_inf_and_one(run_cli, make_clip):
    clip = make_clip("a.mkv", count=4, codec="ffv1", pix_fmt="bgr0")
    result = run_cli("eval", clip, clip, "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    video = report["videos"][0]
    assert video["psnr"] == "inf" and video["ssim"] == 1.0 and video["identical_frames"] == 4
    assert video["per_frame"]["psnr"] == ["inf"] * 4


def test_frame_count_mismatch_exits_3_with_both_counts(run_cli, make_clip):
    a = make_clip("a.mkv", count=3, codec="ffv1", pix_fmt="bgr0")
    b = make_clip("b.mkv", count=5, codec="ffv1", pix_fmt="bgr0")
    result = run_cli("eval", a, b)
    assert result.code == 3
    assert "3 frames" in result.stderr and "has 5" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_folders_of_videos_csv_and_table(run_cli, make_clip, gradients, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "ref").mkdir()
    clean = gradients(3, 48, 40)
    dirty = [np.clip(im.astype(int) + 5, 0, 255).astype(np.uint8) for im in clean]
    for name in ("x", "y"):
        lossless(make_clip, f"ref/{name}.mkv", clean)
        lossless(make_clip, f"out/{name}.mkv", dirty)
    table = run_cli("eval", tmp_path / "out", tmp_path / "ref", "--csv", tmp_path / "scores.csv", "--y-channel")
    assert table.code == 0, table.stderr
    assert "out/x.mkv" in table.stdout and "out/y.mkv" in table.stdout and "mean" in table.stdout
    rows = list(csv.DictReader((tmp_path / "scores.csv").open()))
    assert len(rows) == 6 and float(rows[0]["psnr"]) > 30


def test_pairs_file(run_cli, make_clip, tmp_path):
    a = make_clip("a.mkv", count=2, codec="ffv1", pix_fmt="bgr0")
    (tmp_path / "pairs.csv").write_text("restored,reference\na.mkv,a.mkv\n")
    result = run_cli("eval", "--pairs", tmp_path / "pairs.csv", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["videos"][0]["restored"] == str(a)


def test_missing_arguments_are_a_usage_error(run_cli):
    result = run_cli("eval")
    assert result.code == 2 and "REFERENCE" in result.stderr
