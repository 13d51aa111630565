"""ModelSpec's checkpoint hooks and extra inputs, as load_model applies them."""

from __future__ import annotations

import pytest
import torch

from vrestore.api import load_model
from vrestore.errors import UsageError, WeightsError
from vrestore.models import registry
from vrestore.models.spec import ModelSpec
from vrestore.models.tiny import TinyResidualNet
from vrestore.weights.load import read_state_dict


def _register(monkeypatch, **fields) -> ModelSpec:
    spec = ModelSpec(id="hook.test", factory=TinyResidualNet, task="denoise", **fields)
    monkeypatch.setitem(registry._SPECS, spec.id, spec)
    return spec


def test_requires_weights_refuses_a_run_without_a_checkpoint(monkeypatch):
    _register(monkeypatch, requires_weights=True)
    with pytest.raises(WeightsError, match="--weights"):
        load_model("hook.test", device="cpu")


def test_state_key_is_preferred_when_present(monkeypatch, tmp_path):
    good = {k: v + 1 for k, v in TinyResidualNet().state_dict().items()}
    other = {k: v * 0 for k, v in good.items()}
    path = tmp_path / "ckpt.pth"
    torch.save({"params_ema": other, "params": good}, path)
    assert torch.equal(next(iter(read_state_dict(path, prefer="params").values())), next(iter(good.values())))
    assert torch.equal(next(iter(read_state_dict(path).values())), next(iter(other.values())))
    _register(monkeypatch, state_key="params", requires_weights=True)
    loaded = load_model("hook.test", weights=path, device="cpu")
    first = next(iter(loaded.module.state_dict().values()))
    assert torch.equal(first, next(iter(good.values())))


def test_build_for_checkpoint_makes_the_module(monkeypatch, tmp_path):
    built = []

    def fit(state):
        built.append(len(state))
        return TinyResidualNet()

    path = tmp_path / "ckpt.pth"
    torch.save(TinyResidualNet().state_dict(), path)
    _register(monkeypatch, build_for_checkpoint=fit)
    load_model("hook.test", weights=path, device="cpu")
    assert built == [len(TinyResidualNet().state_dict())]


def test_extra_defaults_and_overrides(monkeypatch):
    spec = _register(monkeypatch, extra_inputs=("sigma",), extra_defaults=(("sigma", 15.0),))
    assert spec.resolve_extra() == {"sigma": 15.0}
    assert spec.resolve_extra({"sigma": 30}) == {"sigma": 30}
    with pytest.raises(UsageError, match="takes no input 'gamma'"):
        spec.resolve_extra({"gamma": 1})
