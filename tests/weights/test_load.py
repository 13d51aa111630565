"""Checkpoint reading: weights_only, containers, prefixes, strict loading."""

from __future__ import annotations

import pytest
import torch

from vrestore.errors import WeightsError
from vrestore.models import build, get_spec
from vrestore.weights.load import load_into, read_merged_state_dict, read_state_dict, read_user_checkpoint


@pytest.fixture()
def tiny_state():
    return build(get_spec("tiny.test")).state_dict()


def _mmediting(state: dict, prefix: str = "generator.", **others) -> dict:
    """The layout of an MMEditing (mmcv) checkpoint of a restorer: meta, state_dict with extras, optimizer."""
    entries = {f"{prefix}{k}": v for k, v in state.items()} | {"step_counter": torch.tensor([500000.0])}
    entries |= {k: torch.ones(2) for k in others}
    meta = {"mmcv_version": "1.3.1", "time": "Tue May 20 10:00:00 2025", "iter": 500000, "config": "model = dict()"}
    optimizer = {"state": {0: {"step": torch.tensor(3.0), "exp_avg": torch.zeros(2)}},
                 "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.99), "params": [0]}]}
    return {"meta": meta, "state_dict": entries, "optimizer": optimizer}


@pytest.mark.parametrize(
    "wrap",
    [
        lambda s: s,
        lambda s: {"params": s},
        lambda s: {"params_ema": s, "params": {k: v * 0 for k, v in s.items()}},
        lambda s: {"state_dict": {f"net.{k}": v for k, v in s.items()}},
        lambda s: {f"module.{k}": v for k, v in s.items()},
        _mmediting,
        lambda s: _mmediting(s, **{"discriminator.conv.weight": None}),
        lambda s: {f"module.{k}": v for k, v in _mmediting(s)["state_dict"].items()},
        lambda s: {f"generator.{k}": v for k, v in s.items()},
    ],
    ids=["flat", "params", "params_ema-preferred", "lightning-net", "module-prefix", "mmediting",
         "mmediting-gan", "mmediting-ddp", "generator-only"],
)
def test_containers_and_prefixes(tmp_path, tiny_state, wrap):
    path = tmp_path / "ckpt.pth"
    torch.save(wrap(tiny_state), path)
    state = read_state_dict(path)
    assert set(state) == set(tiny_state)
    assert all(torch.equal(state[k], tiny_state[k]) for k in state)


def test_explicit_key(tmp_path, tiny_state):
    path = tmp_path / "ckpt.pth"
    torch.save({"params": tiny_state, "params_ema": tiny_state}, path)
    assert set(read_state_dict(path, key="params")) == set(tiny_state)
    with pytest.raises(WeightsError, match="no entry 'nope'"):
        read_state_dict(path, key="nope")


def test_pickled_code_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"params": {"w": torch.zeros(1)}, "obj": object()}, path)
    with pytest.raises(WeightsError, match="holds Python objects besides tensors .*state_dict"):
        read_state_dict(path)


@pytest.mark.parametrize("content", [b"hello", b"", bytes(range(256)) * 40, b"\x00\x00\x00\x18ftypisom" * 100],
                         ids=["text", "empty", "random-bytes", "mp4-header"])
def test_not_a_checkpoint(tmp_path, content):
    path = tmp_path / "notes.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match="is not a PyTorch checkpoint .*--weights") as caught:
        read_state_dict(path)
    assert "Python objects" not in str(caught.value)
    with pytest.raises(WeightsError, match="does not exist"):
        read_state_dict(tmp_path / "missing.pth")


class _Config:
    """A custom class pickled beside the tensors, as some training scripts do."""


def test_checkpoint_with_a_custom_class_names_it(tmp_path):
    path = tmp_path / "full.pth"
    torch.save({"params": {"w": torch.zeros(1)}, "config": _Config()}, path)
    with pytest.raises(WeightsError, match=r"Python objects besides tensors \(e.g. .*_Config\)") as caught:
        read_state_dict(path)
    assert "not a PyTorch checkpoint" not in str(caught.value)


def test_strict_load_reports_mismatches(tiny_state):
    module = build(get_spec("tiny.test"))
    bad = dict(tiny_state)
    bad["head.weight"] = torch.zeros(4, 3, 3, 3)
    with pytest.raises(WeightsError, match="another shape .*head.weight"):
        load_into(module, bad, "x.pth")
    del bad["tail.bias"]
    bad["extra"] = torch.zeros(1)
    with pytest.raises(WeightsError, match="missing .*unexpected"):
        load_into(module, bad, "x.pth")
    load_into(module, tiny_state, "x.pth")


def test_a_user_checkpoint_is_read_once_and_hashed_whole(tmp_path, tiny_state):
    import hashlib

    path = tmp_path / "w.pth"
    torch.save({"params": tiny_state}, path)
    state, sha256 = read_user_checkpoint(path, prefer="params")
    assert sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert state.keys() == read_state_dict(path, prefer="params").keys() == tiny_state.keys()
    with pytest.raises(WeightsError, match="does not exist"):
        read_user_checkpoint(tmp_path / "missing.pth")


def test_parts_merge_into_one_state_dict_and_never_overlap(tmp_path, tiny_state):
    head = {k: v for k, v in tiny_state.items() if k.startswith("head.")}
    tail = {k: v for k, v in tiny_state.items() if not k.startswith("head.")}
    torch.save({"params": head}, tmp_path / "head.pth")
    torch.save(tail, tmp_path / "tail.pth")
    merged = read_merged_state_dict([(tmp_path / "head.pth", "params"), (tmp_path / "tail.pth", None)])
    assert merged.keys() == tiny_state.keys()
    torch.save(dict(tail, **{"head.bias": head["head.bias"]}), tmp_path / "overlap.pth")
    with pytest.raises(WeightsError, match=r"overlap.pth' repeats 1 tensor\(s\) of another part \(e.g. head.bias\)"):
        read_merged_state_dict([(tmp_path / "head.pth", "params"), (tmp_path / "overlap.pth", None)])
