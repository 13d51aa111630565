"""`vrestore synth` through the real CLI: single clips, dataset mode, errors and exit codes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.degrade.conftest import textured_images, write_frames
from tests.helpers import assert_one_line_error


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_synth_tud_to_mkv_with_json(run_cli, tmp_path):
    clean = write_frames(tmp_path / "clean", textured_images(6))
    res = run_cli("synth", clean, tmp_path / "lq.mkv", "--protocol", "tud", "--interval", "2", "--seed", "5",
                  "--json")
    assert res.code == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["frames"] == 6 and info["seed"] == 5 and info["protocol"] == "tud"
    side = json.loads((tmp_path / "lq.mkv.synth.json").read_text())
    assert side["interval"] == 2 and [f["segment"] for f in side["frames"]] == [0, 0, 1, 1, 2, 2]


def test_synth_chain_and_weather_to_folder(run_cli, tmp_path):
    clean = write_frames(tmp_path / "clean", textured_images(3))
    res = run_cli("synth", clean, tmp_path / "lq", "--degrade", "gaussian:sigma=15", "--degrade",
                  "jpeg:quality=30", "--weather", "rain", "--strength", "0.4", "--seed", "1", "-q")
    assert res.code == 0 and res.stdout == ""
    side = json.loads((tmp_path / "lq.synth.json").read_text())
    assert [o["op"] for o in side["frames"][0]["ops"]] == ["rain", "gaussian", "jpeg"]
    assert side["frames"][0]["ops"][1]["sigma"] == 15.0


def test_bad_spec_is_a_one_line_usage_error(run_cli, tmp_path):
    clean = write_frames(tmp_path / "clean", textured_images(2))
    res = run_cli("synth", clean, tmp_path / "lq", "--degrade", "gaussian:sigma=abc")
    assert_one_line_error(res, 2, "'abc' is not a number", "gaussian:sigma=15")
    assert run_cli("synth", clean, tmp_path / "lq", "--protocol", "tud", "--degrade", "jpeg").code == 2


def test_existing_output_is_exit_4_and_missing_input_exit_3(run_cli, tmp_path):
    clean = write_frames(tmp_path / "clean", textured_images(2))
    assert run_cli("synth", clean, tmp_path / "lq", "--seed", "1", "-q").code == 0
    assert run_cli("synth", clean, tmp_path / "lq", "--seed", "1").code == 4
    assert run_cli("synth", tmp_path / "nope.mp4", tmp_path / "x.mkv").code == 3


def test_dataset_mode_mirrors_names_and_workers_do_not_change_results(run_cli, tmp_path):
    root = tmp_path / "clean_root"
    write_frames(root / "alpha", textured_images(3, seed=1))
    write_frames(root / "beta", textured_images(4, seed=2))
    one = run_cli("synth", root, tmp_path / "lq1", "--interval", "2", "--seed", "9", "--json")
    assert one.code == 0, one.stderr
    summary = json.loads(one.stdout)
    assert [Path(c["output"]).name for c in summary["clips"]] == ["alpha", "beta"]
    assert sorted(p.name for p in (tmp_path / "lq1" / "beta").iterdir()) == sorted(
        p.name for p in (root / "beta").iterdir())
    assert (tmp_path / "lq1" / "alpha.synth.json").is_file()
    two = run_cli("synth", root, tmp_path / "lq2", "--interval", "2", "--seed", "9", "--workers", "2", "-q")
    assert two.code == 0, two.stderr
    assert tree_digest(tmp_path / "lq1") == tree_digest(tmp_path / "lq2")
