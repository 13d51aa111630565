"""``vrestore demo``: degrade, restore, compare and score, end to end (on a short clip for speed)."""

from __future__ import annotations

import json
import math

import pytest

from tests.helpers import make_video
from vrestore import demo as demo_module
from vrestore.io.probe import probe


@pytest.fixture()
def short_demo_clip(tmp_path, monkeypatch):
    clip = make_video(tmp_path / "clean.mp4", frames=14, size=(96, 64))
    monkeypatch.setattr(demo_module, "demo_clip", lambda: clip)
    return clip


def test_bundled_clip_is_packaged():
    info = probe(demo_module.demo_clip())
    assert (info.width, info.height) == (640, 272) and info.frame_count == 100


def test_demo_writes_and_scores_its_files_as_eval_does(run_cli, tmp_path, short_demo_clip):
    out = tmp_path / "demo.mp4"
    result = run_cli("demo", out, "--device", "cpu", "--json")
    assert result.code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["output"] == str(out) and record["frames"] == 14
    restored, comparison = probe(out), probe(tmp_path / "demo-compare.mp4")
    assert (restored.width, restored.height, restored.frame_count) == (96, 64, 14)
    assert 3 * 96 <= comparison.width < 4 * 96 and comparison.frame_count == 14
    for side in ("degraded", "restored"):
        assert 10 < record[side]["psnr"] < 60 and not math.isinf(record[side]["psnr"])
        assert 0 < record[side]["ssim"] <= 1
    assert record["model"]
    # The scores are those 'vrestore eval' gives for the files written (restored and degraded).
    assert record["reference"] == str(short_demo_clip)
    assert record["restored"]["file"] == str(out)
    assert record["degraded"]["file"] == str(tmp_path / "demo-degraded.mp4")
    for side in ("degraded", "restored"):
        scored = run_cli("eval", record[side]["file"], record["reference"], "--json")
        assert scored.code == 0, scored.stderr
        video = json.loads(scored.stdout)["videos"][0]
        assert abs(video["psnr"] - record[side]["psnr"]) < 0.01, side
        assert abs(video["ssim"] - record[side]["ssim"]) < 1e-4, side


def test_demo_refuses_to_replace_a_named_output(run_cli, tmp_path, short_demo_clip):
    out = tmp_path / "mine.mp4"
    out.write_bytes(b"keep me")
    result = run_cli("demo", out, "--device", "cpu")
    assert result.code == 4 and out.read_bytes() == b"keep me"
    assert "exists" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "mine-degraded.mp4").exists() and not (tmp_path / "mine-compare.mp4").exists()


def test_demo_uses_the_default_model():
    model, why = demo_module.demo_model()
    assert model == "pgdenet.mc" and why == "the default model pgdenet.mc"


def test_demo_falls_back_to_tiny_test_when_the_default_model_has_no_weights(monkeypatch):
    import dataclasses

    from vrestore.models import registry

    bare = dataclasses.replace(registry.get_spec("pgdenet.mc"), weights=None)
    monkeypatch.setitem(registry._SPECS, "pgdenet.mc", bare)
    model, why = demo_module.demo_model()
    assert model == "tiny.test" and "pgdenet.mc has no weights" in why
