"""Every registered ``*.test`` model, the same checks (as timm runs one test over all its models): it builds,
restores a small clip to the right shape and dtype through ``LoadedModel``, and its state dict round-trips."""

from __future__ import annotations

import pytest
import torch

from vrestore.models import build, get_spec, list_models
from vrestore.models.loaded import LoadedModel

TEST_MODELS = [spec.id for spec in list_models() if spec.id.endswith(".test")]


def small_clip(spec_id: str) -> torch.Tensor:
    spec = get_spec(spec_id)
    side = max(spec.min_size, spec.multiple_of, 8)
    side += (-side) % spec.multiple_of
    frames = 3 if spec.temporal.name != "NONE" else 2
    return torch.rand(1, frames, 3, side, side + spec.multiple_of, generator=torch.Generator().manual_seed(5))


def test_there_are_test_models() -> None:
    assert {"tiny.test", "pgdenet.test"} <= set(TEST_MODELS)


@pytest.mark.parametrize("model_id", TEST_MODELS)
def test_restores_a_small_clip(model_id: str) -> None:
    spec = get_spec(model_id)
    model = LoadedModel(spec, build(spec), extra=spec.resolve_extra())
    clip = small_clip(model_id)
    out, _ = model.run(clip)
    b, t, c, h, w = clip.shape
    assert out.shape == (b, t, c, h * spec.scale, w * spec.scale) and out.dtype == torch.float32
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("model_id", TEST_MODELS)
def test_state_dict_round_trips(model_id: str) -> None:
    spec = get_spec(model_id)
    first, second = build(spec), build(spec)
    with torch.no_grad():
        for param in second.parameters():  # test models are seeded: blank the copy so the load must do the work
            param.zero_()
    second.load_state_dict(first.state_dict())
    clip = small_clip(model_id)
    with torch.no_grad():
        a, _ = LoadedModel(spec, first, extra=spec.resolve_extra()).run(clip)
        b, _ = LoadedModel(spec, second, extra=spec.resolve_extra()).run(clip)
    assert torch.equal(a, b)
