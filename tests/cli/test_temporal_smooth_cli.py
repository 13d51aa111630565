"""``vrestore restore --temporal-smooth``."""

from __future__ import annotations

from tests.helpers import assert_one_line_error


def test_out_of_range_strength_is_one_line_and_exit_2(run_cli, small_video, tmp_path):
    result = run_cli("restore", small_video, tmp_path / "out.mp4", "--model", "tiny.test", "--temporal-smooth", "1.5")
    assert_one_line_error(result, 2, "--temporal-smooth")
    assert not (tmp_path / "out.mp4").exists()


def test_smoothing_run_writes_every_frame(run_cli, small_video, tmp_path):
    out = tmp_path / "out.mp4"
    result = run_cli("restore", small_video, out, "--model", "tiny.test", "--device", "cpu",
                     "--temporal-smooth", "0.5", "--json")
    assert result.code == 0, result.stderr
    assert '"frames": 12' in result.stdout
    assert out.stat().st_size > 0
