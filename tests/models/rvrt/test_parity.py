"""Our RVRT against the official network's outputs (goldens from scripts/rvrt_reference.py goldens).

The goldens come from the official code run unmodified on CPU with its CUDA op replaced by the reference
written from the kernel's math (tests/models/rvrt/reference_op.py); GPU goldens: scripts/rvrt_gpu_check.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.models.rvrt.seeded import seeded_state
from vrestore.models.rvrt.net import DEBLUR, DENOISE, RVRT, SR

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(("name", "config"), [("sr", SR), ("deblur", DEBLUR), ("denoise", DENOISE)])
def test_matches_the_official_output(name, config):
    golden = torch.load(DATA / f"golden_{name}.pt", weights_only=True)
    model = RVRT(config).eval()
    model.load_state_dict(seeded_state(model.state_dict(), golden["seed"]), strict=True)
    x = torch.rand(golden["shape"], generator=torch.Generator().manual_seed(golden["seed"]))
    with torch.no_grad():
        out = model(x) if golden["sigma"] is None else model(x, sigma=golden["sigma"])
    assert out.shape == golden["output"].shape
    assert (out - golden["output"]).abs().max() <= 1e-4
