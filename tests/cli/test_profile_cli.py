"""`restore --profile`: every stage is reported, in the human line and in --json."""

from __future__ import annotations

import json

from vrestore.engine.profile import STAGES


def test_restore_profile_in_json_and_text(run_cli, small_video, tmp_path) -> None:
    result = run_cli("restore", small_video, tmp_path / "out.mp4", "--model", "tiny.test", "--device", "cpu",
                     "--profile", "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    profile = report["profile"]
    assert set(STAGES) <= set(profile) and all(profile[name] >= 0 for name in STAGES)
    assert profile["model"] > 0 and profile["decode"] > 0 and profile["encode"] > 0
    assert profile["wall"] <= report["seconds"] + 0.01
    assert report["sizes"]["how"] == "cpu" and report["sizes"]["tile"] == 0 and report["sizes"]["clip"] == 8

    text = run_cli("restore", small_video, tmp_path / "out2.mp4", "--model", "tiny.test", "--device", "cpu",
                   "--profile")
    assert text.code == 0 and "profile (s, overlapping): decode" in text.stdout and "idle" in text.stdout


def test_no_profile_key_without_the_flag(run_cli, small_video, tmp_path) -> None:
    result = run_cli("restore", small_video, tmp_path / "out.mp4", "--model", "tiny.test", "--device", "cpu", "--json")
    assert result.code == 0 and "profile" not in json.loads(result.stdout)


def test_compile_failure_warns_and_restores(run_cli, small_video, tmp_path, monkeypatch) -> None:
    import torch

    def refuse(module, **kwargs):
        raise RuntimeError("Dynamo is not supported on this Python")

    monkeypatch.setattr(torch, "compile", refuse)
    result = run_cli("restore", small_video, tmp_path / "out.mp4", "--model", "tiny.test", "--device", "cpu",
                     "--compile", "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["frames"] == 12 and any("torch.compile failed" in w for w in report["warnings"])
