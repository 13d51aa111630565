"""The default model: ``pgdenet`` means ``pgdenet.mc`` with its bundled weights, offline; runs say what they use."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from tests.helpers import make_video, sha256
from vrestore.api import load_model
from vrestore.cli import _console
from vrestore.models import DEFAULT_MODEL, get_spec, registry
from vrestore.options import RestoreOptions
from vrestore.weights.manifest import load_manifest


@pytest.fixture()
def offline_empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VRESTORE_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("VRESTORE_OFFLINE", "1")


def test_the_default_model_is_pgdenet_mc_everywhere():
    assert DEFAULT_MODEL == "pgdenet" and registry.resolve_id(DEFAULT_MODEL) == "pgdenet.mc"
    assert RestoreOptions().model == DEFAULT_MODEL  # one definition, in options.py (free of torch)
    assert get_spec(DEFAULT_MODEL).weights is not None


def test_default_model_loads_its_bundled_weights_offline(offline_empty_cache):
    model = load_model(device="cpu")
    entry = load_manifest().entry("pgdenet.mc")
    assert model.spec.id == "pgdenet.mc" and model.spec.motion_average
    assert model.weights is not None and model.weights.origin == "bundled"
    assert model.weights.file.endswith("pgdenet-mc.pth") and model.weights.short_sha256 == entry.sha256[:12]


def test_the_default_weights_ship_in_files_under_8_mb():
    manifest = load_manifest()
    entry = manifest.entry(get_spec(DEFAULT_MODEL).weights)
    files = [entry, *(manifest.entry(part) for part in entry.parts)]
    assert len(files) == 2 and all(e.bundled and e.size < 8_000_000 for e in files)


@pytest.fixture()
def terminal_stderr(monkeypatch) -> io.StringIO:
    """What a terminal's stderr would show (the model line is for people; scripts read stdout or --json)."""
    screen = io.StringIO()
    monkeypatch.setattr(_console, "stderr", Console(file=screen, force_terminal=True, color_system=None, width=300))
    return screen


def test_a_run_on_a_terminal_names_its_model_and_weights_first(run_cli, tmp_path, terminal_stderr):
    clip = make_video(tmp_path / "in.mp4", frames=2)
    result = run_cli("restore", clip, tmp_path / "out.mkv", "--model", "tiny.test", "--device", "cpu")
    assert result.code == 0, result.stderr
    assert "using tiny.test with built-in weights" in terminal_stderr.getvalue()


def test_a_run_in_a_script_keeps_stderr_for_warnings_and_errors(run_cli, tmp_path):
    clip = make_video(tmp_path / "in.mp4", frames=2)
    result = run_cli("restore", clip, tmp_path / "out.mkv", "--model", "tiny.test", "--device", "cpu")
    assert result.code == 0 and result.stderr == ""
    assert "model tiny.test on cpu)" in result.stdout


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
    plain = run_cli("restore", clip, tmp_path / "out.mkv", "-m", "tiny.test", "--weights", path, "--device", "cpu",
                    "-y")
    assert plain.code == 0 and f"weights mine.pth sha256 {sha256(path)[:12]})" in plain.stdout


@pytest.mark.slow
def test_restore_without_model_runs_the_bundled_default(run_cli, tmp_path, offline_empty_cache, terminal_stderr):
    """Slow on a CPU: pgdenet.mc pads the frames to its 256 px minimum."""
    clip = make_video(tmp_path / "in.mp4", frames=3)
    result = run_cli("restore", clip, tmp_path / "out.mkv", "--device", "cpu")
    assert result.code == 0, result.stderr
    shown = terminal_stderr.getvalue()
    assert "using pgdenet.mc (the default model" in shown and "pgdenet-mc.pth (bundled, sha256 " in shown
    assert "model pgdenet.mc on cpu, weights pgdenet-mc.pth sha256 " in result.stdout
