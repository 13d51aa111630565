"""The prompt machinery of PGDENet: the Mixture-of-Dimensions Experts (MoDE) layer and the Dynamic Prompt Expert
Modulator (DPEM) that feeds it a prompt mixed from a learned pool.

Faithful to the official code where it changes outputs: the router adds N(0, 1/E) noise to its logits in
training only; the selected expert's output is weighted by its (not renormalised) softmax probability; the
Laplacian high-pass filter is frozen but kept in the state dict; the ``complexity`` buffer is stored and unused.
One deliberate difference: experts are chosen per sample. The official eval path applies the experts picked
for sample 0 to the whole batch, which equals ours for the batch size of 1 its test scripts use. (Unpicked
experts are computed and weighted by zero; their outputs are finite, so the sum is the official one.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

NUM_EXPERTS = 4
PROMPT_LEN = 5


class _HighPass(nn.Module):
    """A frozen depthwise 3x3 Laplacian (key ``conv.weight``)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        kernel = torch.full((3, 3), -1.0)
        kernel[1, 1] = 8.0
        self.conv.weight.data.copy_(kernel.expand(channels, 1, 3, 3))
        self.conv.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class FrequencyEmbedding(nn.Module):
    """High-frequency descriptor of a feature map: Laplacian -> GELU -> global mean -> MLP, (N,C,H,W) -> (N,C)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.high_conv = nn.Sequential(_HighPass(dim), nn.GELU())
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(self.high_conv(x).mean(dim=(-2, -1)))


class Router(nn.Module):
    """Top-k gates from a spatial (pooled) and a frequency cue; returns (gate values, expert indices), each (N,k)."""

    def __init__(self, dim: int, num_experts: int, top_k: int, complexity: torch.Tensor) -> None:
        super().__init__()
        self.gate = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(1), nn.Linear(dim, num_experts, bias=False))
        self.freq_gate = nn.Linear(dim, num_experts, bias=False)
        self.register_buffer("complexity", complexity / complexity.max())
        self.top_k = top_k
        self.noise_std = 1.0 / num_experts

    def forward(self, x: torch.Tensor, freq: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        logits = self.gate(x) + self.freq_gate(freq)
        if self.training:
            logits = logits + torch.randn_like(logits) * self.noise_std
        return torch.topk(logits.softmax(dim=-1), self.top_k, dim=-1)


class Expert(nn.Module):
    """A low-rank prompt-modulated residual: ``x + up(down(x) * silu(gate(prompt)))`` (keys ``proj.{0,1,2}``)."""

    def __init__(self, dim: int, rank: int) -> None:
        super().__init__()
        self.proj = nn.ModuleList([
            nn.Conv2d(dim, rank, 1, bias=False),
            nn.Conv2d(dim, rank, 1, bias=False),
            nn.Conv2d(rank, dim, 1, bias=False),
        ])

    def forward(self, x: torch.Tensor, prompt: torch.Tensor) -> torch.Tensor:
        return x + self.proj[2](self.proj[0](x) * F.silu(self.proj[1](prompt)))


class MixtureOfDimensions(nn.Module):
    """MoDE: experts of ranks dim/8, dim/4, dim/2, dim; each sample goes to its top-k experts, then a 1x1 conv."""

    def __init__(self, dim: int, top_k: int = 1) -> None:
        super().__init__()
        ranks = [dim // 2**i for i in range(NUM_EXPERTS)][::-1]
        self.freq_embed = FrequencyEmbedding(dim)
        self.experts = nn.ModuleList(Expert(dim, r) for r in ranks)
        self.proj_out = nn.Conv2d(dim, dim, 1, bias=False)
        complexity = torch.tensor([float(sum(p.numel() for p in e.parameters())) for e in self.experts])
        self.routing = Router(dim, NUM_EXPERTS, top_k, complexity)

    def forward(self, x: torch.Tensor, prompt: torch.Tensor) -> torch.Tensor:
        values, indices = self.routing(x, self.freq_embed(x))
        # Dense gates (zero for experts a sample did not pick): every expert runs on the whole batch, which
        # costs little (they are 1x1 convs) and avoids a host synchronisation per call on the GPU.
        gates = torch.zeros(x.shape[0], len(self.experts), device=x.device, dtype=values.dtype)
        gates = gates.scatter(1, indices, values)
        out = sum(gates[:, e].view(-1, 1, 1, 1).to(x.dtype) * expert(x, prompt)
                  for e, expert in enumerate(self.experts))
        return self.proj_out(out)


class PromptModulator(nn.Module):
    """DPEM: a prompt mixed from a pool of ``PROMPT_LEN`` learned maps by the input's pooled features, resized,
    convolved, and used by the MoDE layer to modulate the input."""

    def __init__(self, dim: int, prompt_size: int) -> None:
        super().__init__()
        self.prompt_param = nn.Parameter(torch.rand(PROMPT_LEN, dim, prompt_size, prompt_size))
        self.linear_proj = nn.Linear(dim, PROMPT_LEN)
        self.conv = nn.Conv2d(dim, dim, 3, padding=1, bias=False)
        self.mode = MixtureOfDimensions(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = self.linear_proj(x.mean(dim=(-2, -1))).softmax(dim=1)
        prompt = torch.einsum("bp,pchw->bchw", weights, self.prompt_param.to(weights.dtype))
        prompt = F.interpolate(prompt, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return self.mode(x, self.conv(prompt))
