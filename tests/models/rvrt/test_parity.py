"""Our RVRT against the official network's outputs.

The goldens come from the official code run unmodified on an H100 with its compiled CUDA op
(scripts/rvrt_gpu_check.py, 2026-11-23; report in benchmarks/results/rvrt-gpu-check-2026-11-23-h100.json).
``scripts/rvrt_reference.py goldens`` makes the same files on a CPU, with the op replaced by the reference
written from the kernel's math (vrestore/models/rvrt/reference_op.py); both agree to 3e-6.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vrestore.models.rvrt.net import DEBLUR, DENOISE, RVRT, SR
from vrestore.models.seeded import normal_per_key

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(("name", "config"), [("sr", SR), ("deblur", DEBLUR), ("denoise", DENOISE)])
def test_matches_the_official_output(name, config):
    golden = torch.load(DATA / f"golden_{name}.pt", weights_only=True)
    model = RVRT(config).eval()
    model.load_state_dict(normal_per_key(model.state_dict(), golden["seed"]), strict=True)
    x = torch.rand(golden["shape"], generator=torch.Generator().manual_seed(golden["seed"]))
    with torch.no_grad():
        out = model(x) if golden["sigma"] is None else model(x, sigma=golden["sigma"])
    assert out.shape == golden["output"].shape
    assert (out - golden["output"]).abs().max() <= 1e-4
