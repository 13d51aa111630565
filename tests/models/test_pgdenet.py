"""PGDENet: parity with the official implementation, the official key list, per-sample routing, bf16."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vrestore.models import get_spec, resolve_dtype
from vrestore.models.loaded import LoadedModel
from vrestore.models.pgdenet.network import PGDENet
from vrestore.models.seeded import fill_seeded

GOLDEN = Path(__file__).parent / "golden"


def _model_like(config: dict) -> PGDENet:
    return PGDENet(mid_channels=config["mid_channels"], num_blocks=config["num_blocks"],
                   prompt_size=config["prompt_size"], keyframe_interval=config["keyframe_interval"],
                   deform_groups=config["deform_groups"]).eval()


def test_matches_the_official_implementation():
    """Golden made by scripts/make_pgdenet_golden.py from the official code (seeded weights, real frames)."""
    golden = torch.load(GOLDEN / "pgdenet.pt", weights_only=True)
    model = fill_seeded(_model_like(golden["config"]), golden["seed"])
    with torch.no_grad():
        out = model(golden["input"].float() / 255)
    assert (out[..., 80:176, 80:176] - golden["crop"]).abs().max() <= 1e-4
    assert (out[:, -1] - golden["last"]).abs().max() <= 1e-4


def test_fp32_through_the_engine_matches_the_official_implementation():
    """``--dtype fp32`` with the spec's speed settings (channels_last weights) keeps the official output."""
    golden = torch.load(GOLDEN / "pgdenet.pt", weights_only=True)
    spec = get_spec("pgdenet.official")
    assert spec.channels_last
    loaded = LoadedModel(spec, fill_seeded(_model_like(golden["config"]), golden["seed"]),
                         dtype=resolve_dtype("fp32", spec, torch.device("cpu")))
    out, _ = loaded.run(golden["input"].float() / 255)
    assert (out[..., 80:176, 80:176] - golden["crop"]).abs().max() <= 1e-4
    assert (out[:, -1] - golden["last"]).abs().max() <= 1e-4


def test_official_names_and_shapes():
    expected = (GOLDEN / "pgdenet_official_keys.txt").read_text(encoding="utf-8").split("\n")
    ours = [f"{k} {list(v.shape)}" for k, v in PGDENet().state_dict().items()]
    assert sorted(ours) == sorted(line for line in expected if line)
    assert sum(p.numel() for p in PGDENet().parameters()) == 39_854_280


def test_routing_is_per_sample():
    torch.manual_seed(0)
    model = PGDENet(mid_channels=24, num_blocks=1, prompt_size=8, align_prompt_size=8, keyframe_interval=2).eval()
    clips = torch.rand(2, 2, 3, 136, 136)
    with torch.no_grad():
        together = model(clips)
        apart = torch.cat([model(clips[:1]), model(clips[1:])])
    assert (together - apart).abs().max() < 1e-5


def _tiny() -> PGDENet:
    torch.manual_seed(0)
    return PGDENet(mid_channels=24, num_blocks=1, prompt_size=8, align_prompt_size=8, keyframe_interval=2)


def test_trains():
    model = _tiny().train()
    clip = torch.rand(1, 2, 3, 136, 136)
    (model(clip) - clip).abs().mean().backward()
    assert model.conv_last.weight.grad is not None
    assert model.spynet.basic_module[0].basic_module[0].weight.grad is not None
    assert model.deform_align["forward_2"].conv_offset[0].weight.grad is not None


@pytest.mark.slow
def test_runs_in_bf16():
    """Slow: bf16 convolutions take minutes on CPUs without bf16 units."""
    model = _tiny().eval()
    clip = torch.rand(1, 2, 3, 136, 136)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(clip)
    with torch.no_grad():
        ref = model(clip)
    assert out.shape == ref.shape and torch.isfinite(out).all()
    assert (out.float() - ref).abs().mean() < 0.02


def test_small_frames_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="132x132"):
        _tiny()(torch.rand(1, 2, 3, 128, 256))


def test_a_fresh_tud_network_is_the_identity_with_live_hidden_layers():
    from vrestore.models.pgdenet import tud_net

    torch.manual_seed(0)
    net = tud_net()
    clip = torch.rand(1, 2, 3, 132, 132)
    torch.testing.assert_close(net(clip), clip, rtol=0, atol=0)
    out = net(clip)
    out.sum().backward()
    assert net.conv_last.weight.grad.abs().sum() > 0  # the read-out learns from the first step


def test_a_fresh_tud_network_starts_from_zero_flow_that_can_learn():
    from vrestore.models.pgdenet import tud_net

    torch.manual_seed(0)
    net = tud_net()
    a, b = torch.rand(2, 1, 3, 64, 64).unbind(0)
    flow = net.spynet(a, b)
    assert flow.abs().max() == 0
    net.conv_last.weight.data.normal_(0, 0.01)  # a read-out that uses the propagated features
    net(torch.rand(1, 3, 3, 132, 132)).sum().backward()
    assert net.spynet.basic_module[-1].basic_module[-1].weight.grad.abs().sum() > 0
