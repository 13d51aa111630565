"""DPPD's training objective: reconstruction plus prototype assignment and prompt-distribution terms."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from vrestore.models.dppd.network import DPPD

ASSIGN_WEIGHT = 0.1
KL_WEIGHT = 1e-3


def dppd_loss(
    model: DPPD, degraded: torch.Tensor, clean: torch.Tensor, task: torch.Tensor | None = None
) -> tuple[torch.Tensor, dict[str, float]]:
    """L1 reconstruction + ``ASSIGN_WEIGHT`` x cross-entropy of every site's assignment against the degradation
    label ``task`` (index of its prototype; skipped when None) + ``KL_WEIGHT`` x the distributions' KL."""
    restored, aux = model.forward_with_aux(degraded)
    rec = F.l1_loss(restored, clean)
    assign = sum(F.cross_entropy(a.logits, task) for a in aux) / len(aux) if task is not None else rec.new_zeros(())
    kl = sum(a.kl for a in aux) / len(aux)
    total = rec + ASSIGN_WEIGHT * assign + KL_WEIGHT * kl
    return total, {"rec": rec.item(), "assign": assign.item(), "kl": kl.item()}
