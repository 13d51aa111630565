"""EvalReport: the --json object and the --csv file of one eval run."""

from __future__ import annotations

import math

import pytest

from vrestore.errors import OutputError
from vrestore.metrics.report import EvalReport
from vrestore.metrics.video import EvalOptions, VideoScore


def report() -> EvalReport:
    scores = [VideoScore("out/a.mkv", "ref/a.mkv", 255, [0, 1], [math.inf, 31.5], [1.0, 0.875]),
              VideoScore("out/b.mkv", "ref/b.mkv", 255, [2], [40.25], [0.5])]
    return EvalReport(scores, EvalOptions(), 1.23456)


def test_csv_has_one_row_per_frame_and_inf_as_text(tmp_path):
    path = tmp_path / "scores.csv"
    report().write_csv(path)
    assert path.read_bytes() == (b"restored,reference,frame,psnr,ssim\n"
                                 b"out/a.mkv,ref/a.mkv,0,inf,1.0\n"
                                 b"out/a.mkv,ref/a.mkv,1,31.5,0.875\n"
                                 b"out/b.mkv,ref/b.mkv,2,40.25,0.5\n")
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]  # the temporary file was renamed


def test_csv_in_a_missing_folder_is_an_output_error(tmp_path):
    with pytest.raises(OutputError, match="--csv"):
        report().write_csv(tmp_path / "missing" / "scores.csv")


def test_json_means_and_settings():
    data = report().to_dict()
    assert data["videos"][0]["psnr"] == 31.5 and data["videos"][0]["per_frame"][0]["psnr"] == "inf"
    assert data["mean"] == {"psnr": pytest.approx((31.5 + 40.25) / 2), "ssim": pytest.approx((0.9375 + 0.5) / 2),
                            "videos": 2, "frames": 3}
    assert data["seconds"] == 1.235 and data["settings"] == {"y_channel": False, "crop_border": 0, "align": "index"}
