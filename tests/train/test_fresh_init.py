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
