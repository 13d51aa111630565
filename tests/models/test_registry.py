"""Registry, specs and LoadedModel behaviour."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vrestore.errors import DeviceError, UsageError
from vrestore.models import (
    LoadedModel,
    ModelSpec,
    Temporal,
    build,
    get_spec,
    list_models,
    registry,
    resolve_device,
    resolve_dtype,
)


def test_bare_arch_resolves_to_default_tag():
    assert get_spec("tiny").id == "tiny.test"
    assert registry.resolve_id("tiny") == "tiny.test"


def test_unknown_id_suggests_close_names():
    with pytest.raises(UsageError, match="did you mean .*tiny"):
        get_spec("tinny.test")


@pytest.mark.parametrize(("typed", "closest"), [
    ("pgdenet.td", ["pgdenet.tud"]), ("pgdenet.xyz", ["pgdenet.mc", "pgdenet.tud"]), ("pgdnet", ["pgdenet.mc"]),
    ("tiny.tst", ["tiny.test"]), ("rvrt.sr-reds", ["rvrt.sr-reds-x4"]), ("pgdenet.offical", ["pgdenet.official"]),
    ("dynet.m", ["dynet.l", "dynet.s"]), ("doesnotexist", []), ("rvrt.nosuch", []),
])
def test_suggestions_are_the_closest_full_ids(typed, closest):
    assert registry.suggest(typed) == closest


def test_unknown_tag_of_a_known_architecture_lists_its_ids():
    with pytest.raises(UsageError, match="unknown model 'pgdenet.zzzzzzzz'; the pgdenet models are pgdenet.mc, "
                                         "pgdenet.official, pgdenet.test, pgdenet.tud"):
        get_spec("pgdenet.zzzzzzzz")


def test_unknown_id_without_close_names_points_to_list():
    with pytest.raises(UsageError, match="vrestore models list"):
        get_spec("zzzzzz")


def test_duplicate_id_is_an_error():
    spec = get_spec("tiny.test")
    with pytest.raises(ValueError, match="twice"):
        registry.register(spec)


def test_ids_must_have_arch_and_tag():
    with pytest.raises(ValueError, match="arch.tag"):
        registry.register(ModelSpec(id="nodot", factory=nn.Identity, task="denoise"))


def test_list_models_glob():
    assert [s.id for s in list_models("tiny.*")] == ["tiny.test"]
    assert list_models("nothing.*") == []


def test_tiny_weights_are_fixed_by_the_seed():
    spec = get_spec("tiny.test")
    a, b = build(spec).state_dict(), build(spec).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    x = torch.rand(1, 3, 3, 20, 24, generator=torch.Generator().manual_seed(0))
    out, state = LoadedModel(spec, build(spec)).run(x)
    assert out.shape == x.shape and state is None
    assert 0 < (out - x).abs().mean() < 0.1


def test_window_models_get_edge_padded_windows():
    class CentreMean(nn.Module):
        def forward(self, x):  # (N, 3, C, H, W) -> mean of the window
            return x.mean(dim=1)

    spec = ModelSpec(id="toy.window", factory=CentreMean, task="denoise", temporal=Temporal.WINDOW, temporal_radius=1)
    x = torch.arange(4, dtype=torch.float32).view(1, 4, 1, 1, 1).expand(1, 4, 3, 2, 2)
    out, _ = LoadedModel(spec, CentreMean()).run(x)
    expected = torch.tensor([(0 + 0 + 1) / 3, 1.0, 2.0, (2 + 3 + 3) / 3])
    assert torch.allclose(out[0, :, 0, 0, 0], expected)


def test_missing_extra_input_is_a_usage_error():
    spec = ModelSpec(id="toy.sigma", factory=nn.Identity, task="denoise", extra_inputs=("noise_level",))
    with pytest.raises(UsageError, match="noise_level"):
        LoadedModel(spec, nn.Identity())


def test_devices():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(UsageError):
        resolve_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_device_error():
    with pytest.raises(DeviceError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(DeviceError):
        resolve_device("cuda:1")


def test_dtypes_follow_the_spec():
    spec = get_spec("tiny.test")
    cpu = torch.device("cpu")
    assert resolve_dtype("bf16", spec, cpu) is torch.bfloat16
    with pytest.raises(UsageError, match="GPU"):
        resolve_dtype("fp16", spec, cpu)
    plain = ModelSpec(id="toy.fp32only", factory=nn.Identity, task="denoise")
    with pytest.raises(UsageError, match="does not support bf16"):
        resolve_dtype("bf16", plain, cpu)
    with pytest.raises(UsageError, match="unknown dtype"):
        resolve_dtype("fp64", spec, cpu)
