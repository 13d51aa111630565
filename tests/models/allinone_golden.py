"""Access to the PromptIR/DyNet parity golden made by scripts/golden_allinone.py from the official code."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from vrestore.models.seeded import fill_seeded

GOLDEN = Path(__file__).parent / "golden" / "allinone_parity.npz"


def load_golden() -> dict:
    data = np.load(GOLDEN)
    return {
        "input": torch.from_numpy(data["input"]).permute(2, 0, 1)[None].float() / 255,
        "seed": int(data["seed"]),
        "keys": json.loads(str(data["keys"])),
        **{name: torch.from_numpy(data[name])[None] for name in ("promptir", "dynet_l", "dynet_s")},
    }


def key_shapes(module: nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in module.state_dict().items()}


def run_seeded(module: nn.Module, x: torch.Tensor, seed: int) -> torch.Tensor:
    """``module`` with the golden's seeded weights applied to ``x`` (CPU, float32)."""
    with torch.no_grad():
        return fill_seeded(module, seed).eval()(x)


def one_thread():
    """Generator body for a fixture: the shared test machines are slower with several threads here."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
