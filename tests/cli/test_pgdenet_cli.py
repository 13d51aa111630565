"""PGDENet through the whole restore path: registered ids, the official checkpoint layout, small videos."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from tests.helpers import make_video
from vrestore.io.probe import probe
from vrestore.models import get_spec
from vrestore.models.pgdenet import _seeded_test_net
from vrestore.models.pgdenet.network import PGDENet


def test_specs():
    official = get_spec("pgdenet.official")
    assert official.requires_weights and official.state_key == "params"
    assert official.keyframe_interval == 6 and official.multiple_of == 4 and official.min_size == 256


def test_restore_with_the_test_model_pads_small_frames(run_cli, tmp_path):
    clip = make_video(tmp_path / "in.mp4", frames=8, size=(96, 64))
    result = run_cli("restore", clip, tmp_path / "out.mkv", "--model", "pgdenet.test", "--device", "cpu", "--json")
    assert result.code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["frames"] == 8 and any("padded" in w for w in record["warnings"])
    info = probe(tmp_path / "out.mkv")
    assert (info.width, info.height, info.frame_count) == (96, 64, 8)


def test_official_id_without_weights_says_what_to_do(run_cli, tmp_path):
    clip = make_video(tmp_path / "in.mp4", frames=2, size=(64, 48))
    result = run_cli("restore", clip, tmp_path / "out.mp4", "--model", "pgdenet.official", "--device", "cpu")
    assert result.code == 5 and "vrestore restore IN OUT --model pgdenet.official --weights FILE" in result.stderr
    assert not (tmp_path / "out.mp4").exists()


def test_basicsr_checkpoint_layout_loads_strictly(tmp_path, monkeypatch):
    """A BasicSR-style checkpoint (``params`` and ``params_ema``) loads ``params``, as the official test does."""
    from vrestore.api import load_model
    from vrestore.models import registry

    spec = get_spec("pgdenet.official")
    small = dataclasses.replace(spec, factory=_seeded_test_net)  # the official layout, at test size
    monkeypatch.setitem(registry._SPECS, "pgdenet.official", small)
    params = {k: v + 0.01 for k, v in _seeded_test_net().state_dict().items()}
    ema = _seeded_test_net().state_dict()
    path = tmp_path / "PGENet.pth"
    torch.save({"params": params, "params_ema": ema}, path)
    loaded = load_model("pgdenet.official", weights=path, device="cpu")
    name = "conv_last.weight"
    assert torch.equal(loaded.module.state_dict()[name], params[name])


@pytest.mark.slow
def test_official_size_restores_end_to_end(run_cli, tmp_path):
    """Slow: the paper-size network (40 M parameters) on the CPU."""
    state = {k: v.clone() for k, v in PGDENet().state_dict().items()}
    ckpt = tmp_path / "PGENet.pth"
    torch.save({"params": state}, ckpt)
    clip = make_video(tmp_path / "in.mp4", frames=3, size=(64, 48))
    result = run_cli("restore", clip, tmp_path / "out.mp4", "--model", "pgdenet.official", "--weights", ckpt,
                     "--device", "cpu", "--json")
    assert result.code == 0, result.stderr
    assert probe(tmp_path / "out.mp4").frame_count == 3


def test_models_inspect_lists_exactly_the_official_names_and_shapes(run_cli):
    from pathlib import Path

    listed = Path(__file__).parents[1] / "models" / "golden" / "pgdenet_official_keys.txt"
    expected = {line for line in listed.read_text(encoding="utf-8").splitlines() if line}
    result = run_cli("models", "inspect", "pgdenet.official", "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert {f"{k} {v}" for k, v in report["state_dict"].items()} == expected
    assert report["parameters"] == 39_854_280
