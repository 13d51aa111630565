"""RVRT's Swin-style blocks: 3-D window self-attention layers wrapped as residual groups."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

Size3 = tuple[int, int, int]


class Permute(nn.Module):
    """Reorders dimensions; holds a slot in a Sequential so parameter indices match the official names."""

    def __init__(self, *dims: int) -> None:
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(*self.dims)


class Mlp(nn.Module):
    """Linear -> GELU -> Linear."""

    def __init__(self, dim: int, hidden: int, out: int | None = None) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, out or dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


def fit_window(size: Size3, window: Size3, shift: Size3) -> tuple[Size3, Size3]:
    """Shrink the window to the input where it is smaller (no shift along such a dimension)."""
    win = tuple(s if s <= w else w for s, w in zip(size, window, strict=True))
    sh = tuple(0 if s <= w else d for s, w, d in zip(size, window, shift, strict=True))
    return win, sh  # type: ignore[return-value]


def partition(x: torch.Tensor, window: Size3) -> torch.Tensor:
    """(B, D, H, W, C) -> (B * windows, Wd*Wh*Ww, C)."""
    b, d, h, w, c = x.shape
    x = x.view(b, d // window[0], window[0], h // window[1], window[1], w // window[2], window[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(-1, window[0] * window[1] * window[2], c)


def unpartition(windows: torch.Tensor, window: Size3, b: int, d: int, h: int, w: int) -> torch.Tensor:
    """Inverse of :func:`partition`."""
    x = windows.view(b, d // window[0], h // window[1], w // window[2], *window, -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).reshape(b, d, h, w, -1)


def shift_mask(padded: Size3, window: Size3, shift: Size3, device: torch.device) -> torch.Tensor:
    """-100 between tokens of a shifted window that come from different image regions (Swin's scheme)."""
    labels = torch.zeros((1, *padded, 1), device=device)
    region = 0
    slices = [(slice(-w), slice(-w, -s), slice(-s, None)) for w, s in zip(window, shift, strict=True)]
    for sd in slices[0]:
        for sh in slices[1]:
            for sw in slices[2]:
                labels[:, sd, sh, sw, :] = region
                region += 1
    flat = partition(labels, window).squeeze(-1)
    diff = flat.unsqueeze(1) - flat.unsqueeze(2)
    return diff.masked_fill(diff != 0, -100.0).masked_fill(diff == 0, 0.0)


def relative_index(window: Size3) -> torch.Tensor:
    """Index into the relative position bias table for every token pair of a window."""
    coords = torch.stack(torch.meshgrid(*(torch.arange(w) for w in window), indexing="ij")).flatten(1)
    rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
    rel = rel + torch.tensor([w - 1 for w in window])
    strides = torch.tensor([(2 * window[1] - 1) * (2 * window[2] - 1), 2 * window[2] - 1, 1])
    return (rel * strides).sum(-1)


class WindowAttention(nn.Module):
    """Multi-head self-attention within windows, with a learned relative position bias."""

    def __init__(self, dim: int, window: Size3, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        entries = (2 * window[0] - 1) * (2 * window[1] - 1) * (2 * window[2] - 1)
        self.relative_position_bias_table = nn.Parameter(torch.zeros(entries, heads))
        self.register_buffer("relative_position_index", relative_index(window))
        self.qkv_self = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        b, n, c = x.shape
        q, k, v = self.qkv_self(x).view(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        # A window shrunk to a small input keeps the top-left block of the full window's index (as upstream).
        index = self.relative_position_index[:n, :n].reshape(-1)
        attn = attn + self.relative_position_bias_table[index].view(n, n, -1).permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            windows = mask.shape[0]
            attn = attn.view(b // windows, windows, self.heads, n, n) + mask[:, :n, :n].unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.heads, n, n)
        out = (attn.softmax(-1) @ v).transpose(1, 2).reshape(b, n, c)
        return self.proj(out)


class STL(nn.Module):
    """Swin transformer layer: (shifted) window attention and an MLP, both residual, on (B, D, H, W, C)."""

    def __init__(self, dim: int, heads: int, window: Size3, shift: Size3, mlp_ratio: float = 2.0) -> None:
        super().__init__()
        self.window = window
        self.shift = shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention(dim, window, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = x + self._attend(x, mask)
        return x + self.mlp(self.norm2(x))

    def _attend(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, d, h, w, c = x.shape
        window, shift = fit_window((d, h, w), self.window, self.shift)
        x = self.norm1(x)
        pads = [(win - size % win) % win for size, win in zip((d, h, w), window, strict=True)]
        x = F.pad(x, (0, 0, 0, pads[2], 0, pads[1], 0, pads[0]))
        _, dp, hp, wp, _ = x.shape
        shifted = any(s > 0 for s in shift)
        if shifted:
            x = torch.roll(x, shifts=tuple(-s for s in shift), dims=(1, 2, 3))
        out = unpartition(self.attn(partition(x, window), mask if shifted else None), window, b, dp, hp, wp)
        if shifted:
            out = torch.roll(out, shifts=shift, dims=(1, 2, 3))
        return out[:, :d, :h, :w, :]


class STG(nn.Module):
    """``depth`` STLs alternating unshifted and half-window-shifted windows, on (B, C, D, H, W)."""

    def __init__(self, dim: int, depth: int, heads: int, window: Size3) -> None:
        super().__init__()
        self.window = window
        half: Size3 = (window[0] // 2, window[1] // 2, window[2] // 2)
        self.shift = half
        self.blocks = nn.ModuleList(
            STL(dim, heads, window, (0, 0, 0) if i % 2 == 0 else half) for i in range(depth)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, _, d, h, w = x.shape
        window, shift = fit_window((d, h, w), self.window, self.shift)
        padded = tuple(-(-size // win) * win for size, win in zip((d, h, w), window, strict=True))
        mask = shift_mask(padded, window, shift, x.device) if any(s > 0 for s in shift) else None  # type: ignore[arg-type]
        x = x.permute(0, 2, 3, 4, 1)
        for block in self.blocks:
            x = block(x, mask)
        return x.permute(0, 4, 1, 2, 3)


class RSTB(nn.Module):
    """Residual Swin transformer block: ``x + Linear(STG(x))`` on (B, C, D, H, W)."""

    def __init__(self, dim: int, depth: int, heads: int, window: Size3) -> None:
        super().__init__()
        self.residual_group = STG(dim, depth, heads, window)
        self.linear = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.linear(self.residual_group(x).transpose(1, 4)).transpose(1, 4)


class RSTBWithInputConv(nn.Module):
    """Grouped 1x3x3 conv to ``dim`` channels, LayerNorm, RSTBs, LayerNorm; (N, T, C, H, W) in and out."""

    def __init__(
        self, in_channels: int, dim: int, groups: int, blocks: int, depth: int, heads: int, window: Size3
    ) -> None:
        super().__init__()
        self.main = nn.Sequential(
            Permute(0, 2, 1, 3, 4),
            nn.Conv3d(in_channels, dim, (1, 3, 3), padding=(0, 1, 1), groups=groups),
            Permute(0, 2, 3, 4, 1),
            nn.LayerNorm(dim),
            Permute(0, 4, 1, 2, 3),
            nn.Sequential(*(RSTB(dim, depth, heads, window) for _ in range(blocks))),
            Permute(0, 2, 3, 4, 1),
            nn.LayerNorm(dim),
            Permute(0, 1, 4, 2, 3),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)
