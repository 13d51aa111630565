"""Our grid_sample deformable attention against the reference written from the CUDA kernel's math."""

from __future__ import annotations

import pytest
import torch

from vrestore.models.rvrt.deform_attn import deform_attn
from vrestore.models.rvrt.reference_op import reference_deform_attn


def _inputs(seed: int, n: int, channels: int, height: int, width: int, spread: float):
    gen = torch.Generator().manual_seed(seed)
    clip, groups = 2, 12
    q = torch.randn(n * clip, 1, channels, height, width, generator=gen)
    kv = torch.randn(n, clip, 2 * channels, height, width, generator=gen)
    offset = torch.randn(n * clip, clip * groups * 9 * 2, height, width, generator=gen) * spread
    return q, kv, offset


@pytest.mark.parametrize(
    ("channels", "height", "width", "spread", "band"),
    [(48, 7, 9, 2.0, 1 << 26), (24, 6, 5, 8.0, 1 << 26), (48, 7, 9, 3.0, 5000)],
)
def test_matches_the_kernel_math(channels, height, width, spread, band):
    q, kv, offset = _inputs(0, 1, channels, height, width, spread)
    expected = reference_deform_attn(q, kv, offset, 3, 3, 12, 12, 2)
    got = deform_attn(q[:, 0], kv, offset, heads=12, groups=12, max_elements=band)
    assert got.shape == expected.shape
    assert (got - expected).abs().max() < 1e-5


def test_samples_outside_the_frame_are_zeros():
    q, kv, offset = _inputs(1, 1, 24, 5, 5, 0.0)
    far = deform_attn(q[:, 0], kv, offset + 100.0, heads=12, groups=12)
    assert torch.equal(far, torch.zeros_like(far))
    # one step off the edge: the border output mixes real samples with zero ones (all in one softmax)
    shifted = deform_attn(q[:, 0], kv, offset + 1.0, heads=12, groups=12)
    expected = reference_deform_attn(q, kv, offset + 1.0, 3, 3, 12, 12, 2)
    assert (shifted - expected).abs().max() < 1e-5
