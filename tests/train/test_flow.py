"""The flow teacher follows SPyNet's convention, and pretraining moves SPyNet towards it."""

from __future__ import annotations

import numpy as np
import torch

from tests.train.conftest import textured_frames
from vrestore.models.common.spynet import SpyNet
from vrestore.models.common.warp import flow_warp
from vrestore.train.flow import flow_batch, pretrain, teacher_flow, warping_errors


def _shifted_pair(dx: int, dy: int, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    big = textured_frames(1, size=size + 16, seed=3)[0]
    ref = big[8 : 8 + size, 8 : 8 + size]
    supp = big[8 - dy : 8 - dy + size, 8 - dx : 8 - dx + size]  # the content moved by (dx, dy)
    return np.ascontiguousarray(ref), np.ascontiguousarray(supp)


def test_teacher_flow_has_spynets_convention():
    ref, supp = _shifted_pair(3, -2)
    flow = teacher_flow(ref, supp)
    inner = flow[12:-12, 12:-12]
    assert np.allclose(np.median(inner[..., 0]), 3, atol=0.3) and np.allclose(np.median(inner[..., 1]), -2, atol=0.3)
    # Warping supp by it gives ref back (away from the borders).
    as_tensor = lambda a: torch.from_numpy(a).permute(2, 0, 1)[None].float()  # noqa: E731
    warped = flow_warp(as_tensor(supp), as_tensor(flow))[0].permute(1, 2, 0).numpy()
    assert np.abs(warped[12:-12, 12:-12] - ref[12:-12, 12:-12]).mean() < 3.0


def test_pretraining_lowers_the_end_point_error():
    segments = []
    for seed in range(3):
        frames = np.stack(textured_frames(6, size=192, seed=seed))
        segments.append((frames, frames))
    torch.manual_seed(0)
    spynet = SpyNet()
    probe = flow_batch(segments, np.random.default_rng(99), 8)

    def epe() -> float:
        with torch.no_grad():
            return float(torch.linalg.vector_norm(spynet(probe[0], probe[1]) - probe[2], dim=1).mean())

    before = epe()
    pretrain(spynet, lambda k: segments, steps=30, batch=4, lr=1e-3)
    assert epe() < 0.9 * before


def test_warping_errors_name_every_flow():
    clip = np.stack(textured_frames(4, size=192))
    errors = warping_errors(SpyNet(), clip)
    assert set(errors) == {"zero flow", "DIS (teacher)", "SPyNet"}
    assert errors["DIS (teacher)"] < errors["zero flow"]  # the clip pans: aligning pays
