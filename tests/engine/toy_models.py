"""Small models with known receptive fields for engine tests (CPU, float32, seeded)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np
import torch
from torch import nn

from vrestore.frame import Frame
from vrestore.models.loaded import LoadedModel
from vrestore.models.seeded import fill_normal
from vrestore.models.spec import ModelSpec


def make_model(module: nn.Module, **spec_fields: Any) -> LoadedModel:
    """A LoadedModel on the CPU for ``module`` with a throwaway spec (not registered)."""
    spec_fields.setdefault("id", "toy.test")
    spec = ModelSpec(factory=lambda: module, task="test", **spec_fields)
    return LoadedModel(spec, module)


def seeded_conv(cin: int, cout: int, seed: int) -> nn.Conv2d:
    return fill_normal(nn.Conv2d(cin, cout, 3, padding=1), seed, {"weight": 0.3, "bias": 0.1})


class Identity(nn.Module):
    """y = x (any temporal kind that passes a tensor straight through)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class ConvNet(nn.Module):
    """Three stacked 3x3 convolutions with zero padding: receptive-field radius 3."""

    radius = 3

    def __init__(self, seed: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(
            seeded_conv(3, 6, seed), nn.Tanh(), seeded_conv(6, 6, seed + 1), nn.Tanh(), seeded_conv(6, 3, seed + 2)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + 0.1 * self.body(x)


class PixelShuffleUp(nn.Module):
    """x2 upscaler: nearest upsampling plus a 3x3 conv through a pixel shuffle (radius 1 in input pixels)."""

    radius = 1

    def __init__(self, seed: int = 3) -> None:
        super().__init__()
        self.conv = seeded_conv(3, 12, seed)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.interpolate(x, scale_factor=2, mode="nearest") + 0.1 * self.shuffle(self.conv(x))


class TemporalAverage(nn.Module):
    """CLIP model: a weighted moving average over 2r+1 frames, clip ends replicated (temporal radius r).

    A 3x3 spatial conv is added so that tiling and chunking are exercised together.
    """

    def __init__(self, radius: int = 2, seed: int = 5) -> None:
        super().__init__()
        self.radius = radius
        generator = torch.Generator().manual_seed(seed)
        weights = torch.rand(2 * radius + 1, generator=generator) + 0.5
        self.register_buffer("weights", weights / weights.sum())
        self.conv = seeded_conv(3, 3, seed)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, t = x.shape[:2]
        index = torch.arange(-self.radius, t + self.radius).clamp(0, t - 1)
        padded = x[:, index]
        out = sum(w * padded[:, i : i + t] for i, w in enumerate(self.weights))
        return out + 0.1 * self.conv(out.flatten(0, 1)).unflatten(0, (n, t))


class RunningAverage(nn.Module):
    """Stateful CLIP model: an exponential running average carried across calls in the state."""

    def __init__(self, alpha: float = 0.7) -> None:
        super().__init__()
        self.alpha = alpha

    def forward(self, x: torch.Tensor, state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        outs = []
        for t in range(x.shape[1]):
            state = x[:, t] if state is None else self.alpha * state + (1 - self.alpha) * x[:, t]
            outs.append(state)
        return torch.stack(outs, dim=1), state


class WindowMean(nn.Module):
    """WINDOW model: a weighted mean of the 2r+1 input frames -> the centre frame."""

    def __init__(self, radius: int = 1) -> None:
        super().__init__()
        weights = torch.arange(1, 2 * radius + 2, dtype=torch.float32)
        self.register_buffer("weights", weights / weights.sum())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.weights.view(1, -1, 1, 1, 1)).sum(dim=1)


class WindowCentre(nn.Module):
    """WINDOW identity: returns the centre frame of its input window."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, x.shape[1] // 2]


class KeyframeMarker(nn.Module):
    """CLIP model that whitens channel 0 of every k-th frame of its input (its local key frames)."""

    def __init__(self, interval: int) -> None:
        super().__init__()
        self.interval = interval

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x.clone()
        y[:, :: self.interval, 0] = 1.0
        return y


class OutOfMemoryAbove(nn.Module):
    """Wraps a module; raises CUDA's out-of-memory error when the input has more than ``max_pixels`` pixels."""

    def __init__(self, inner: nn.Module, max_pixels: int, *, plain_runtime_error: bool = False) -> None:
        super().__init__()
        self.inner = inner
        self.max_pixels = max_pixels
        self.plain_runtime_error = plain_runtime_error
        self.sizes: list[tuple[int, int]] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        self.sizes.append((h, w))
        if h * w > self.max_pixels:
            if self.plain_runtime_error:
                raise RuntimeError("CUDA error: out of memory (simulated)")
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 1 GiB (simulated)")
        return self.inner(x)


def random_clip(t: int, h: int, w: int, seed: int = 0) -> torch.Tensor:
    """A (1,T,3,H,W) float32 clip in [0,1]."""
    return torch.rand((1, t, 3, h, w), generator=torch.Generator().manual_seed(seed))


def make_frames(n: int, h: int, w: int, dtype: type = np.uint8, seed: int = 0) -> list[Frame]:
    """``n`` random frames with distinct timing metadata."""
    rng = np.random.default_rng(seed)
    peak = 255 if dtype == np.uint8 else 65535
    return [
        Frame(
            image=rng.integers(0, peak + 1, size=(h, w, 3), dtype=np.int64).astype(dtype),
            pts=1000 + 40 * i,
            time_base=Fraction(1, 1000),
            index=i,
            is_key=i % 5 == 0,
            duration=40,
        )
        for i in range(n)
    ]
