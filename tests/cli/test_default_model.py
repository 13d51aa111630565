"""The default model: ``pgdenet`` means ``pgdenet.tud`` with its bundled weights, offline; runs say what they use."""

from __future__ import annotations

import json

import pytest

from tests.helpers import make_video, sha256
from vrestore.api import load_model
from vrestore.models import DEFAULT_MODEL, get_spec, registry
from vrestore.options import RestoreOptions
from vrestore.weights.manifest import load_manifest


@pytest.fixture()
def offline_empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VRESTORE_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("VRESTORE_OFFLINE", "1")


def test_the_default_model_is_pgdenet_tud_everywhere():
    assert DEFAULT_MODEL == "pgdenet" and registry.resolve_id(DEFAULT_MODEL) == "pgdenet.tud"
    assert RestoreOptions().model == DEFAULT_MODEL  # options.py spells it out to stay free of torch
    assert get_spec(DEFAULT_MODEL).weights is not None


def test_default_model_loads_its_bundled_weights_offline(offline_empty_cache):
    model = load_model(device="cpu")
    entry = load_manifest().entry("pgdenet.tud")
    assert model.spec.id == "pgdenet.tud"
    assert model.weights is not None and model.weights.origin == "bundled"
    assert model.weights.file.endswith("pgdenet-tud.pth") and model.weights.short_sha256 == entry.sha256[:12]


def test_a_run_names_its_model_and_weights(run_cli, tmp_path):
    clip = make_video(tmp_path / "in.mp4", frames=2)
    result = run_cli("restore", clip, tmp_path / "out.mkv", "--model", "tiny.test", "--device", "cpu")
    assert result.code == 0, result.stderr
    assert "using tiny.test with built-in weights" in result.stderr


def test_json_records_the_weights_file_and_its_sha256(run_cli, tmp_path):
    import torch

    from vrestore.models import build

    clip = make_video(tmp_path / "in.mp4", frames=2)
    path = tmp_path / "mine.pth"
    torch.save({"params": build(get_spec("tiny.test")).state_dict()}, path)
    result = run_cli("restore", clip, tmp_path / "out.mkv", "-m", "tiny.test", "--weights", path, "--device", "cpu",
                     "--json")
    assert result.code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["weights"] == {"origin": "file", "file": str(path), "sha256": sha256(path)[:12]}
    assert "using" not in result.stderr  # --json keeps stderr for errors and warnings


@pytest.mark.slow
def test_restore_without_model_runs_the_bundled_default(run_cli, tmp_path, offline_empty_cache):
    """Slow on a CPU: pgdenet.tud pads the frames to its 256 px minimum."""
    clip = make_video(tmp_path / "in.mp4", frames=3)
    result = run_cli("restore", clip, tmp_path / "out.mkv", "--device", "cpu")
    assert result.code == 0, result.stderr
    assert "using pgdenet.tud (the default model" in result.stderr
    assert "pgdenet-tud.pth (bundled, sha256 " in result.stderr
    assert "model pgdenet.tud" in result.stdout
