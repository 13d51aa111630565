"""scripts/fresh_init.py: a fresh pgdenet.tud that starts at the identity with live features."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "fresh_init.py"


def _script():
    spec = importlib.util.spec_from_file_location("fresh_init", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _feature_scale(net: torch.nn.Module, clip: torch.Tensor) -> tuple[float, torch.Tensor]:
    seen = {}
    hook = net.conv_hr.register_forward_hook(lambda m, i, o: seen.setdefault("hr", float(o.abs().mean())) and None)
    with torch.no_grad():
        out = net(clip)
    hook.remove()
    return seen["hr"], out


@pytest.mark.parametrize("model", ["pgdenet.tud", "pgdenet.wide"])
def test_fresh_network_is_the_identity_with_features_far_larger_than_the_default_start(model):
    from vrestore.models.registry import get_spec

    clip = torch.rand(1, 2, 3, 132, 132, generator=torch.Generator().manual_seed(0))
    fresh_scale, fresh_out = _feature_scale(_script().fresh_network(seed=1, model=model), clip)
    torch.manual_seed(1)
    default_scale, _ = _feature_scale(get_spec(model).factory(), clip)
    assert torch.equal(fresh_out, clip)  # the last convolution starts at zero: the global residual alone
    assert fresh_scale > 0.2 and fresh_scale > 10 * default_scale


def test_carry_start_passes_the_state_through_alignment_and_key_fusion():
    """With --carry G the aligned state leaves each deformable convolution (masks 0.5) and the key-frame fusion
    scaled by about G and pointing the same way; the plain Kaiming start mixes it away."""
    import torch.nn.functional as F

    def passes(net: torch.nn.Module) -> tuple[float, float]:
        align = net.deform_align["forward_1"]
        state = torch.randn(1, net.mid_channels, 16, 16, generator=torch.Generator().manual_seed(2))
        with torch.no_grad():
            out = F.conv2d(state, align.weight * 0.5, padding=1)  # zero offsets, masks at 0.5
        return float(out.norm() / state.norm()), float(F.cosine_similarity(out.flatten(), state.flatten(), dim=0))

    gain, cosine = passes(_script().fresh_network(seed=1, model="pgdenet.tud", carry=0.8))
    assert abs(gain - 0.8) < 0.1 and cosine > 0.95
    _, plain_cosine = passes(_script().fresh_network(seed=1, model="pgdenet.tud"))
    assert plain_cosine < 0.6
    fusion = _script().fresh_network(seed=1, model="pgdenet.tud", carry=0.8).key_fusion.weight
    c = fusion.shape[0]
    assert torch.allclose(torch.diagonal(fusion[:, :c, 1, 1]), torch.full((c,), 0.8), atol=0.15)
