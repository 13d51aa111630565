"""DPPD-style prompts: prototype assignment, prompt sampling, and a tiny training smoke test."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tests.models.allinone_golden import one_thread
from vrestore.api import load_model
from vrestore.models.dppd import DPPD
from vrestore.models.dppd.loss import dppd_loss
from vrestore.models.dppd.prompts import PromptDistribution, PrototypeAssignment

_one_thread = pytest.fixture(autouse=True)(one_thread)


def test_assignment_picks_the_nearest_prototype():
    assign = PrototypeAssignment(feature_dim=4, embed_dim=4, prototypes=3)
    with torch.no_grad():
        assign.embed[0].weight.copy_(torch.eye(4))
        assign.embed[0].bias.zero_()
        assign.embed[2].weight.copy_(torch.eye(4))
        assign.embed[2].bias.zero_()
        assign.embed[1] = torch.nn.Identity()  # a linear embedding, to place features exactly
        assign.prototypes.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 0, 0], [0, 0, 1.0, 1.0]]))
    pooled = torch.tensor([[0.9, 0.1, 0, 0], [0.1, 2.0, 0.3, 0], [0, 0.2, 1.0, 0.8]])
    x = pooled[:, :, None, None].expand(3, 4, 5, 6)
    logits, index = assign(x)
    assert logits.shape == (3, 3)
    assert index.tolist() == [0, 1, 2]
    cosine = F.normalize(pooled, dim=-1) @ F.normalize(assign.prototypes, dim=-1).t()
    assert torch.allclose(logits, cosine / assign.temperature, atol=1e-6)


def test_sampled_prompts_follow_the_learned_mean_and_variance():
    dist = PromptDistribution(prototypes=2, tokens=3, dim=4)
    with torch.no_grad():
        dist.mean.copy_(torch.arange(24.0).reshape(2, 3, 4) / 10)
        dist.log_var.copy_(torch.log(torch.linspace(0.05, 2.0, 24).reshape(2, 3, 4)))
    index = torch.ones(20000, dtype=torch.long)
    draws = dist(index, sample=True, generator=torch.Generator().manual_seed(0))
    assert draws.shape == (20000, 3, 4)
    assert torch.allclose(draws.mean(0), dist.mean[1], atol=0.05)
    assert torch.allclose(draws.var(0), dist.log_var[1].exp(), rtol=0.06)
    assert torch.equal(dist(index[:2], sample=False), dist.mean[[1, 1]])


def test_inference_is_deterministic_and_training_samples():
    model = load_model("dppd.test", device="cpu").module
    x = torch.rand(2, 3, 16, 24)
    with torch.no_grad():
        assert model(x).shape == x.shape
        assert torch.equal(model(x), model(x))
        model.train()
        assert not torch.equal(model(x), model(x))


def test_a_few_training_steps_decrease_the_loss():
    torch.manual_seed(0)
    model = DPPD(dim=8, num_blocks=(1, 1, 1, 1), refinement_blocks=1, tokens=4, prompt_dim=8, embed_dim=8).train()
    clean = torch.rand(4, 3, 16, 16)
    degraded = (clean + 0.2 * torch.randn_like(clean)).clamp(0, 1)
    task = torch.tensor([0, 0, 1, 2])
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3)
    losses = []
    for _ in range(12):
        loss, parts = dppd_loss(model, degraded, clean, task)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert set(parts) == {"rec", "assign", "kl"}
    assert losses[-1] < 0.8 * losses[0]
