"""Seeded random state dicts for parity tests: the same names and shapes give the same tensors anywhere.

Golden scripts build the official model, draw its state dict with ``seeded_state`` and run it; the tests draw
the same state dict from our model's names and shapes, so goldens need not store the weights.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import torch

# Buffers whose values must stay meaningful (an image normalisation with a random std would explode).
KEEP_SUFFIXES = ("spynet.mean", "spynet.std")


def seeded_state(reference: Mapping[str, torch.Tensor], seed: int, std: float = 0.05) -> dict[str, torch.Tensor]:
    """``reference``'s tensors replaced by N(0, std) draws seeded per name (float tensors; others kept)."""
    out = {}
    for name, tensor in reference.items():
        if not tensor.is_floating_point() or name.endswith(KEEP_SUFFIXES):
            out[name] = tensor.clone()
            continue
        generator = torch.Generator().manual_seed(seed * 1_000_003 + zlib.crc32(name.encode()))
        out[name] = torch.randn(tensor.shape, generator=generator, dtype=torch.float32) * std
    return out
