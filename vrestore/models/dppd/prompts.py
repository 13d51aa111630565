"""DPPD's prompt module: degradation prototype assignment, prompt distributions, cross fusion.

See the package docstring for the design decisions the paper leaves open.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from vrestore.models.promptir.layers import ChannelNorm


class PrototypeAssignment(nn.Module):
    """DPA: pool the feature, embed it, and score it against ``prototypes`` learned unit vectors.

    Scores are cosine similarities divided by ``temperature``; the assigned prototype is the nearest one.
    """

    def __init__(self, feature_dim: int, embed_dim: int, prototypes: int, temperature: float = 0.1) -> None:
        super().__init__()
        self.embed = nn.Sequential(nn.Linear(feature_dim, embed_dim), nn.GELU(), nn.Linear(embed_dim, embed_dim))
        self.prototypes = nn.Parameter(torch.randn(prototypes, embed_dim))
        self.temperature = temperature

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(logits [N, K], index [N])`` for features ``x [N, C, H, W]``."""
        embedding = F.normalize(self.embed(x.mean(dim=(-2, -1))), dim=-1)
        logits = embedding @ F.normalize(self.prototypes, dim=-1).t() / self.temperature
        return logits, logits.argmax(dim=-1)


class PromptDistribution(nn.Module):
    """PDL: one diagonal Gaussian over ``tokens`` prompt vectors of width ``dim`` per prototype."""

    def __init__(self, prototypes: int, tokens: int, dim: int) -> None:
        super().__init__()
        self.mean = nn.Parameter(torch.randn(prototypes, tokens, dim) * 0.02)
        self.log_var = nn.Parameter(torch.full((prototypes, tokens, dim), -4.0))

    def forward(self, index: torch.Tensor, sample: bool, generator: torch.Generator | None = None) -> torch.Tensor:
        """Prompts ``[N, tokens, dim]`` of the prototypes ``index``: a reparameterised draw, or the mean."""
        mean = self.mean[index]
        if not sample:
            return mean
        std = torch.exp(0.5 * self.log_var[index])
        noise = torch.randn(mean.shape, generator=generator, device=mean.device, dtype=mean.dtype)
        return mean + std * noise

    def kl(self) -> torch.Tensor:
        """Mean KL divergence of every prototype's Gaussian from N(0, I) (keeps the variances alive)."""
        return 0.5 * (self.mean.pow(2) + self.log_var.exp() - 1 - self.log_var).mean()


class CrossFusion(nn.Module):
    """Pixels attend to prompt tokens: Q from the normalised feature, K and V from the prompts."""

    def __init__(self, dim: int, prompt_dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.norm = ChannelNorm(dim)
        self.query = nn.Conv2d(dim, dim, 1, bias=False)
        self.key = nn.Linear(prompt_dim, dim, bias=False)
        self.value = nn.Linear(prompt_dim, dim, bias=False)
        self.out = nn.Conv2d(dim, dim, 1, bias=False)

    def forward(self, x: torch.Tensor, prompts: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        head_dim = c // self.heads
        q = self.query(self.norm(x)).reshape(n, self.heads, head_dim, h * w).transpose(-2, -1)
        k = self.key(prompts).reshape(n, -1, self.heads, head_dim).transpose(1, 2)
        v = self.value(prompts).reshape(n, -1, self.heads, head_dim).transpose(1, 2)
        attn = (q @ k.transpose(-2, -1) * head_dim**-0.5).softmax(dim=-1)
        fused = (attn @ v).transpose(-2, -1).reshape(n, c, h, w)
        return x + self.out(fused)


@dataclass
class PromptAux:
    """What one prompt module reports for the training losses."""

    logits: torch.Tensor
    kl: torch.Tensor


class PromptModule(nn.Module):
    """Assign a prototype, draw (training) or take the mean of (inference) its prompts, fuse them."""

    def __init__(self, dim: int, prototypes: int, tokens: int, prompt_dim: int, embed_dim: int, heads: int) -> None:
        super().__init__()
        self.assign = PrototypeAssignment(dim, embed_dim, prototypes)
        self.prompts = PromptDistribution(prototypes, tokens, prompt_dim)
        self.fuse = CrossFusion(dim, prompt_dim, heads)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, PromptAux]:
        logits, index = self.assign(x)
        prompts = self.prompts(index, sample=self.training)
        return self.fuse(x, prompts), PromptAux(logits, self.prompts.kl())
