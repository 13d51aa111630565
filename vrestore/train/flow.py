"""Teach a flow network (SPyNet) motion from a classical optical flow, before the restoration network trains.

The official recipes start from a SPyNet pretrained on Sintel/FlyingChairs, which cannot be downloaded here,
so the recurrent network had to learn alignment from nothing. A classical flow is a good enough teacher:
OpenCV's DIS flow (Kroeger et al., ECCV 2016; already a dependency through opencv) is computed on the
*clean* frames, and SPyNet learns to reproduce it from the *degraded* ones, at the scale it runs at inside
the network (PGDENet computes flow on frames downscaled 4x, bicubic).

Pairs come from the training pool (``train.pool``): every segment holds degraded and clean frames of one
clip, so a pair is two frames of a segment, ``gap`` frames apart (1 or 2), in either order.
The check is a warping error on held-out frames: mean |ref - warp(supp, flow)| over the pixels, for zero
flow, the teacher and the student.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vrestore.models.common.warp import flow_warp
from vrestore.train.data import to_tensor

SCALE = 0.25  # PGDENet's SPyNet sees the frames at a quarter of their size


def teacher_flow(ref: np.ndarray, supp: np.ndarray) -> np.ndarray:
    """DIS flow (H,W,2) float32 from ``ref`` to ``supp`` (uint8 RGB): ``supp`` sampled at pixel + flow ~ ``ref``.

    That is SPyNet's convention (``vrestore.models.common.spynet``) and OpenCV's ``calc(ref, supp)``.
    """
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    grey = [cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY) for image in (ref, supp)]
    return dis.calc(grey[0], grey[1], None)


def shrink(frames: torch.Tensor) -> torch.Tensor:
    """(N,3,H,W) frames at the scale the network's flow sees them (bicubic, as PGDENet does)."""
    return F.interpolate(frames, scale_factor=SCALE, mode="bicubic").clamp_(0, 1)


def flow_batch(segments: Sequence[tuple[np.ndarray, np.ndarray]], rng: np.random.Generator, size: int
               ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``size`` pairs: (degraded ref, degraded supp) shrunk, and the teacher's flow on the shrunk clean pair.

    Returns (ref, supp, flow) tensors of shapes (size,3,h,w), (size,3,h,w), (size,2,h,w).
    """
    refs, supps, flows = [], [], []
    for _ in range(size):
        degraded, clean = segments[int(rng.integers(len(segments)))]
        gap = int(rng.integers(1, 3))
        a = int(rng.integers(len(clean) - gap))
        i, j = (a, a + gap) if rng.random() < 0.5 else (a + gap, a)
        lq = shrink(to_tensor(degraded[[i, j]]))
        gt = shrink(to_tensor(clean[[i, j]]))
        gt_u8 = (gt * 255).round().byte().permute(0, 2, 3, 1).numpy()
        refs.append(lq[0])
        supps.append(lq[1])
        flows.append(torch.from_numpy(teacher_flow(gt_u8[0], gt_u8[1])).permute(2, 0, 1))
    return torch.stack(refs), torch.stack(supps), torch.stack(flows)


def pretrain(spynet: nn.Module, next_segments: Callable[[int], Sequence[tuple[np.ndarray, np.ndarray]]],
             steps: int, *, batch: int = 8, lr: float = 1e-4, seed: int = 0,
             on_step: Callable[[int, float], None] | None = None) -> None:
    """Train ``spynet`` for ``steps`` steps on the end-point error to the teacher's flow (in place).

    ``next_segments(k)`` returns the segments to draw step ``k``'s pairs from (e.g. the pool generation).
    """
    rng = np.random.default_rng(seed)
    optimizer = torch.optim.Adam(spynet.parameters(), lr=lr)
    spynet.train()
    for k in range(steps):
        ref, supp, target = flow_batch(next_segments(k), rng, batch)
        epe = torch.linalg.vector_norm(spynet(ref, supp) - target, dim=1).mean()
        optimizer.zero_grad(set_to_none=True)
        epe.backward()
        optimizer.step()
        if on_step is not None:
            on_step(k + 1, float(epe.detach()))
    spynet.eval()


@torch.no_grad()
def warping_errors(spynet: nn.Module, clip: np.ndarray) -> dict[str, float]:
    """Mean absolute warping error (0-255) between neighbours of ``clip`` ((T,H,W,3) uint8, clean), shrunk as
    the network sees it, for zero flow, the teacher (DIS) and ``spynet``."""
    small = shrink(to_tensor(clip))
    small_u8 = (small * 255).round().byte().permute(0, 2, 3, 1).numpy()
    errors: dict[str, list[float]] = {"zero flow": [], "DIS (teacher)": [], "SPyNet": []}
    for i in range(len(clip) - 1):
        ref, supp = small[i : i + 1], small[i + 1 : i + 2]
        flows = {"zero flow": torch.zeros(1, 2, *ref.shape[-2:]),
                 "DIS (teacher)": torch.from_numpy(teacher_flow(small_u8[i], small_u8[i + 1])).permute(2, 0, 1)[None],
                 "SPyNet": spynet(ref, supp)}
        for name, flow in flows.items():
            warped = flow_warp(supp, flow, padding="border")
            errors[name].append(float((warped - ref).abs().mean()) * 255)
    return {name: float(np.mean(values)) for name, values in errors.items()}
