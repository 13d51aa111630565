"""``vrestore restore --sigma auto|LEVEL`` with a model that takes a noise level: --json and --verbose report it."""

from __future__ import annotations

import json

import pytest
from torch import nn

from tests.helpers import assert_one_line_error, noisy_gradient_frames
from vrestore.models import registry
from vrestore.models.spec import ModelSpec, Temporal


class SigmaIdentity(nn.Module):
    def forward(self, x, sigma):
        assert isinstance(sigma, float)
        return x


@pytest.fixture()
def sigma_model(monkeypatch) -> str:
    spec = ModelSpec(id="toysigma.test", factory=SigmaIdentity, task="denoise", temporal=Temporal.CLIP,
                     clip_length=8, extra_inputs=("sigma",), extra_defaults=(("sigma", "auto"),),
                     auto_inputs=("sigma",))
    monkeypatch.setitem(registry._SPECS, spec.id, spec)
    return spec.id


@pytest.fixture()
def noisy_folder(tmp_path):
    """12 PNG frames 160x120 of a smooth gradient with Gaussian noise of level 10."""
    return noisy_gradient_frames(tmp_path / "noisy", [10] * 12)


def test_auto_is_the_default_and_is_reported(run_cli, sigma_model, noisy_folder, tmp_path):
    result = run_cli("restore", noisy_folder, tmp_path / "out.mkv", "--model", sigma_model, "--codec", "ffv1",
                     "--json", "--verbose")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)["sigma"]
    assert report["auto"] is True
    windows = report["per_window"]
    assert windows[0]["frames"][0] == 0 and windows[-1]["frames"][1] == 12
    assert all(abs(w["sigma"] - 10) <= 1.5 for w in windows), windows
    said = [line for line in result.stderr.splitlines() if "estimated sigma" in line]
    assert len(said) == len(windows) and said[0].startswith("info: frames 0-")


def test_a_given_level_is_reported_and_not_estimated(run_cli, sigma_model, noisy_folder, tmp_path):
    result = run_cli("restore", noisy_folder, tmp_path / "out.mkv", "--model", sigma_model, "--codec", "ffv1",
                     "--sigma", "25", "--json", "--verbose")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["sigma"] == {"auto": False, "value": 25.0}
    assert "estimated sigma" not in result.stderr


def test_a_word_other_than_auto_is_a_usage_error(run_cli, sigma_model, noisy_folder, tmp_path):
    result = run_cli("restore", noisy_folder, tmp_path / "out.mkv", "--model", sigma_model, "--sigma", "high")
    assert_one_line_error(result, 2, "'auto'")
    assert not (tmp_path / "out.mkv").exists()


def test_models_without_a_level_keep_their_report(run_cli, noisy_folder, tmp_path):
    result = run_cli("restore", noisy_folder, tmp_path / "out.mkv", "--model", "tiny.test", "--codec", "ffv1",
                     "--json")
    assert result.code == 0, result.stderr
    assert "sigma" not in json.loads(result.stdout)
