"""DynStaticNet: key layout and numeric parity with the official implementation, registration, determinism."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vrestore.models import build, get_spec
from vrestore.models.dynstaticnet import build_official
from vrestore.models.dynstaticnet.net import DynStaticNet, HaarDown, QueryNoise
from vrestore.models.seeded import fill_seeded, normal_haar
from vrestore.models.spec import Temporal

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("dim", [24, 48])
def test_keys_and_shapes_match_the_official_constructor(dim):
    expected = [line.split(" ") for line in (DATA / f"dynstaticnet_keys_{dim}.txt").read_text().splitlines()]
    ours = [[name, ",".join(map(str, t.shape))] for name, t in DynStaticNet(dim=dim).state_dict().items()]
    assert ours == expected


@pytest.fixture(scope="module")
def golden() -> dict:
    return torch.load(DATA / "dynstaticnet_golden.pt", weights_only=True)


@pytest.fixture(scope="module")
def seeded_net(golden) -> DynStaticNet:
    net = DynStaticNet(dim=golden["dim"], seed=golden["query_seed"]).eval()
    return fill_seeded(net, golden["state_seed"], normal_haar)


@pytest.mark.parametrize("case", ["a", "b"])
def test_output_matches_the_official_code(golden, seeded_net, case):
    clip = golden[f"input_{case}"].float() / 255
    with torch.no_grad():
        out = seeded_net(clip)
    expected = golden[f"output_{case}"]
    assert expected.abs().max() > 1  # the seeded weights do change the clip a lot: a real comparison
    assert (out - expected).abs().max().item() <= 1e-4


def test_haar_bands_follow_the_formula():
    x = torch.arange(16.0).view(1, 1, 1, 4, 4)
    down = HaarDown(1, 4)
    a, b, c, d = x[..., 0::2, 0::2], x[..., 0::2, 1::2], x[..., 1::2, 0::2], x[..., 1::2, 1::2]
    expected = torch.cat([a + b + c + d, a + b - c - d, a - b + c - d, a - b - c + d], dim=2) / 2
    bank = down.wt.bank()
    got = torch.nn.functional.conv2d(x.flatten(0, 1), bank, stride=2).unsqueeze(0)
    torch.testing.assert_close(got, expected, rtol=1e-6, atol=1e-5)


def test_deterministic_query_gives_one_output_per_clip_and_random_mode_does_not():
    net = build(get_spec("dynstaticnet.test"))
    clip = torch.rand(1, 3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        first, second = net(clip), net(clip)
        assert torch.equal(first, second)
        net.deterministic = False
        third, fourth = net(clip), net(clip)
    assert not torch.equal(third, fourth)
    net.deterministic = True
    assert net._noise(clip.device).generator is not None
    assert net.train()._noise(clip.device).generator is None  # training draws fresh queries, as the official code


def test_specs():
    official, narrow, tiny = (get_spec(i) for i in ("dynstaticnet", "dynstaticnet.official-24", "dynstaticnet.test"))
    assert official.id == "dynstaticnet.official"
    for spec in (official, narrow, tiny):
        assert spec.temporal is Temporal.CLIP and spec.clip_length == 10 and spec.task == "weather"
        assert spec.multiple_of % 4 == 0
    assert official.requires_weights and narrow.requires_weights and not tiny.requires_weights
    assert build(official).dim == 48 and build(narrow).dim == 24


@pytest.mark.parametrize("dim", [24, 48])
def test_width_is_read_from_the_checkpoint(dim):
    state = DynStaticNet(dim=dim).state_dict()
    assert build_official(state).dim == dim


def test_an_mmediting_checkpoint_loads_into_the_width_it_was_trained_at(tmp_path, caplog):
    from vrestore.api import load_model

    state = DynStaticNet(dim=24).state_dict()
    wrapped = {f"generator.{k}": v for k, v in state.items()} | {"step_counter": torch.tensor([1.0])}
    path = tmp_path / "last.pth"
    torch.save({"meta": {"iter": 1}, "state_dict": wrapped}, path)
    for model_id, warned in (("dynstaticnet", True), ("dynstaticnet.official-24", False)):
        caplog.clear()
        loaded = load_model(model_id, weights=path, device="cpu")
        assert loaded.module.dim == 24
        assert ("running it as dynstaticnet.official-24" in caplog.text) is warned
        assert torch.equal(loaded.module.state_dict()["conv_out.layer.0.weight"], state["conv_out.layer.0.weight"])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_run_is_deterministic_and_close_to_the_cpu_apart_from_the_query(golden, seeded_net):
    clip = golden["input_a"].float().cuda() / 255
    net = seeded_net.cuda()
    try:
        with torch.no_grad():
            first, second = net(clip), net(clip)
            # CUDA's generator draws other queries than the CPU's, so only the encoder path is compared:
            encoded = net.vid_e1(net.conv_input(clip), QueryNoise(None)).cpu()
            cpu = seeded_net.cpu()
            expected = cpu.vid_e1(cpu.conv_input(clip.cpu()), QueryNoise(None))
        assert torch.equal(first, second) and torch.isfinite(first).all()
        torch.testing.assert_close(encoded, expected, rtol=1e-3, atol=1e-3)
    finally:
        seeded_net.cpu()
