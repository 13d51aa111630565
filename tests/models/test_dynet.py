"""DyNet: parity of L and S with the official code; one state dict, two depths."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from tests.models.allinone_golden import key_shapes, load_golden, one_thread, run_seeded
from vrestore.api import load_model
from vrestore.errors import WeightsError
from vrestore.models import get_spec
from vrestore.models.dynet.network import LARGE, SMALL, DyNet

_one_thread = pytest.fixture(autouse=True)(one_thread)


@pytest.mark.parametrize("repeats", [LARGE, SMALL])
def test_state_dict_layout_matches_the_official_constructor(repeats):
    golden = load_golden()
    assert key_shapes(DyNet(repeats)) == dict(golden["keys"]["dynet_l"]) == dict(golden["keys"]["dynet_s"])


@pytest.mark.parametrize(("repeats", "name"), [(LARGE, "dynet_l"), (SMALL, "dynet_s")])
def test_output_matches_the_official_code_on_a_real_crop(repeats, name):
    golden = load_golden()
    ours = run_seeded(DyNet(repeats), golden["input"], golden["seed"])
    assert (ours - golden[name]).abs().max().item() <= 1e-4


def test_large_and_small_share_one_state_dict_and_differ_only_in_depth():
    large, small = DyNet(LARGE), DyNet(SMALL)
    small.load_state_dict(large.state_dict(), strict=True)
    assert sum(p.numel() for p in large.parameters()) == sum(p.numel() for p in small.parameters()) == 16_726_031
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert not torch.allclose(large.eval()(x), small.eval()(x))
        small.repeats = LARGE
        assert torch.equal(large(x), small(x))


def test_registered_variants_need_a_checkpoint(tmp_path):
    assert get_spec("dynet").id == "dynet.l"
    assert get_spec("dynet.s").requires_weights
    with pytest.raises(WeightsError, match="--weights"):
        load_model("dynet.s", device="cpu")


def test_one_lightning_checkpoint_serves_both_depths(tmp_path, monkeypatch):
    from vrestore.models import registry

    tiny = load_model("dynet.test", device="cpu").module
    path = tmp_path / "all_in_one_model.ckpt"
    torch.save({"epoch": 1, "state_dict": {f"net.{k}": v for k, v in tiny.state_dict().items()}}, path)
    for model_id in ("dynet.l", "dynet.s"):
        spec = registry._SPECS[model_id]
        small_factory = lambda repeats=spec.factory.args[0]: DyNet(repeats, dim=8, refinement_blocks=1)  # noqa: E731
        monkeypatch.setitem(registry._SPECS, model_id, dataclasses.replace(spec, factory=small_factory))
        module = load_model(model_id, weights=path, device="cpu").module
        assert module.repeats == spec.factory.args[0]
        assert torch.equal(module.state_dict()["output.weight"], tiny.state_dict()["output.weight"])
