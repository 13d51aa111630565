"""``vrestore analyze``: noise level, blockiness and blur per second; one error line and exit 3 for bad input."""

from __future__ import annotations

import json

import pytest

from tests.helpers import assert_one_line_error, noisy_gradient_frames


@pytest.fixture()
def two_seconds(tmp_path):
    """50 PNG frames (2 s at the default 25 fps) of a smooth gradient: noise 8 in the first second, 25 after."""
    return noisy_gradient_frames(tmp_path / "clip", [8] * 25 + [25] * 25, offset=60, slope=110)


def test_json_per_second(run_cli, two_seconds):
    result = run_cli("analyze", two_seconds, "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    rows = report["per_second"]
    assert [(r["second"], r["frames"], r["sampled"]) for r in rows] == [(0, 25, 2), (1, 25, 2)]
    assert abs(rows[0]["noise"] - 8) <= 1.5 and abs(rows[1]["noise"] - 25) <= 0.15 * 25
    assert report["frames"] == 50 and (report["width"], report["height"]) == (160, 120)
    assert all(0.9 <= r["blockiness"] <= 1.1 and 0 <= r["blur"] <= 1 for r in rows)


def test_table(run_cli, two_seconds):
    result = run_cli("analyze", two_seconds, "--samples", "1")
    assert result.code == 0, result.stderr
    assert "noise (0-255)" in result.stdout and "median" in result.stdout


@pytest.mark.parametrize("kind", ["missing", "empty", "not a video"])
def test_bad_input_is_one_line_and_exit_3(run_cli, tmp_path, kind):
    path = tmp_path / "in.mp4"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "not a video":
        path.write_text("hello, not a video\n" * 50)
    result = run_cli("analyze", path)
    assert_one_line_error(result, 3)


def test_bad_samples_is_a_usage_error(run_cli, two_seconds):
    assert run_cli("analyze", two_seconds, "--samples", "0").code == 2
