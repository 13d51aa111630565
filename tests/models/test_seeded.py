"""vrestore/models/seeded.py: the named seeded-weight rules keep their draws (the parity goldens depend on them)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from vrestore.models.seeded import (
    default_init,
    fill_normal,
    fill_seeded,
    normal_haar,
    normal_per_key,
    uniform_fan_in,
)

LAYOUT = {"body.0.weight": torch.Size([2, 3, 1, 1]), "body.0.bias": torch.Size([2])}


def as_reference(layout):
    return {k: torch.zeros(shape) for k, shape in layout.items()}


# The first values each rule draws for LAYOUT with seed 7, as the goldens were made (a change here is a change of
# every golden that names the rule: regenerate those from the official code, do not edit these numbers).
PINNED = {
    uniform_fan_in: {"body.0.bias": [1.006984, 0.939761], "body.0.weight": [0.183842, 0.181161, -0.30858]},
    normal_haar: {"body.0.bias": [-0.00734, 0.039307], "body.0.weight": [0.136662, -0.160842, 0.244045]},
    normal_per_key: {"body.0.bias": [-0.045954, 0.003839], "body.0.weight": [0.582111, -0.19447, -0.038089]},
}


def draw(rule, layout, seed):
    return rule(as_reference(layout) if rule is normal_per_key else layout, seed)


@pytest.mark.parametrize("rule", list(PINNED), ids=lambda r: r.__name__)
def test_each_rule_keeps_its_draws(rule):
    state = draw(rule, LAYOUT, 7)
    got = {k: [round(x, 6) for x in v.flatten().tolist()[:3]] for k, v in state.items()}
    assert got == PINNED[rule]


@pytest.mark.parametrize("rule", list(PINNED), ids=lambda r: r.__name__)
def test_rules_see_only_names_and_shapes(rule):
    reordered = dict(reversed(list(LAYOUT.items())))
    a, b = draw(rule, LAYOUT, 7), draw(rule, reordered, 7)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    other = draw(rule, LAYOUT, 8)
    assert not torch.equal(a["body.0.weight"], other["body.0.weight"])


def test_normal_per_key_copies_the_fixed_buffers_and_keeps_dtypes():
    reference = {"spynet.mean": torch.tensor([0.485, 0.456]), "w": torch.zeros(2, 2, dtype=torch.float64)}
    state = normal_per_key(reference, 3)
    assert torch.equal(state["spynet.mean"], reference["spynet.mean"]) and state["w"].dtype == torch.float64


def test_normal_haar_keeps_the_true_haar_filters():
    state = normal_haar({"x.wt.h0_col": torch.Size([2]), "x.wt.h1_row": torch.Size([2])}, 1)
    root = 0.5**0.5
    assert state["x.wt.h0_col"].tolist() == pytest.approx([root, root])
    assert state["x.wt.h1_row"].tolist() == pytest.approx([root, -root])


def test_default_init_is_repeatable_and_leaves_the_callers_random_stream():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    a = default_init(lambda: nn.Linear(4, 2), 5)
    assert torch.equal(torch.rand(3), expected)
    b = default_init(lambda: nn.Linear(4, 2), 5)
    c = default_init(lambda: nn.Linear(4, 2), 6)
    assert torch.equal(a.weight, b.weight) and not torch.equal(a.weight, c.weight)


def test_fill_seeded_and_fill_normal_fill_the_module_in_place():
    conv = nn.Conv2d(3, 2, 1)
    assert fill_seeded(conv, 7) is conv
    own = uniform_fan_in({"weight": conv.weight.shape, "bias": conv.bias.shape}, 7)
    assert torch.equal(conv.weight, own["weight"]) and torch.equal(conv.bias, own["bias"])
    fill_normal(conv, 1, {"weight": 0.3, "bias": 0.1})
    generator = torch.Generator().manual_seed(1)
    assert torch.equal(conv.weight, torch.randn(conv.weight.shape, generator=generator) * 0.3)
    assert torch.equal(conv.bias, torch.randn(conv.bias.shape, generator=generator) * 0.1)
