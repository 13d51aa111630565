"""The CPU deformable convolution (bilinear sampling + matmul) equals torchvision's operator."""

from __future__ import annotations

import pytest
import torch
from torchvision.ops import deform_conv2d

from vrestore.models.common import deform
from vrestore.models.common.deform import ModulatedDeformConv, sampled_deform_conv2d


def _inputs(groups: int, size: tuple[int, int], spread: float, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    h, w = size
    c = 4 * groups
    leaf = lambda *shape, scale=1.0: (torch.randn(*shape, generator=gen, dtype=torch.float64) * scale).requires_grad_()  # noqa: E731
    x = leaf(2, c, h, w)
    offset = leaf(2, 2 * groups * 9, h, w, scale=spread)  # spread: many taps land outside the image
    mask = torch.rand(2, groups * 9, h, w, generator=gen, dtype=torch.float64).requires_grad_()
    return x, offset, mask, leaf(6, c, 3, 3), leaf(6)


@pytest.mark.parametrize(("groups", "size", "spread"), [(1, (9, 7), 0.7), (2, (12, 16), 3.0), (4, (5, 6), 8.0)])
def test_sampled_equals_torchvision_in_values_and_gradients(groups, size, spread):
    x, offset, mask, weight, bias = _inputs(groups, size, spread)
    ours = sampled_deform_conv2d(x, offset, weight, bias, mask, 1)
    theirs = deform_conv2d(x, offset, weight, bias, padding=1, mask=mask)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-10)
    probe = torch.randn_like(theirs)
    grads_ours = torch.autograd.grad((ours * probe).sum(), [x, offset, mask, weight, bias])
    grads_theirs = torch.autograd.grad((theirs * probe).sum(), [x, offset, mask, weight, bias])
    for name, a, b in zip(("x", "offset", "mask", "weight", "bias"), grads_ours, grads_theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-9, msg=f"gradient of {name} differs")


def test_module_runs_the_sampled_op_on_cpu_and_matches_torchvision():
    torch.manual_seed(1)
    layer = ModulatedDeformConv(8, 8, deform_groups=2)
    x = torch.randn(1, 8, 10, 11)
    offset = torch.randn(1, 36, 10, 11) * 2
    mask = torch.rand(1, 18, 10, 11)
    expected = deform_conv2d(x, offset, layer.weight, layer.bias, padding=1, mask=mask)
    torch.testing.assert_close(layer.deform(x, offset, mask), expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("band_bytes", [1, 5000, 10**9])
def test_bands_of_rows_compute_what_one_piece_computes(monkeypatch, band_bytes):
    # 1 byte: one row per band; 5000: uneven bands (the last one shorter); 10**9: one band.
    monkeypatch.setattr(deform, "TAPS_BAND_BYTES", band_bytes)
    x, offset, mask, weight, bias = _inputs(2, (13, 9), 2.0)
    ours = sampled_deform_conv2d(x, offset, weight, bias, mask, 1)
    theirs = deform_conv2d(x, offset, weight, bias, padding=1, mask=mask)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-10)
    probe = torch.randn_like(theirs)
    grads_ours = torch.autograd.grad((ours * probe).sum(), [x, offset, mask])
    grads_theirs = torch.autograd.grad((theirs * probe).sum(), [x, offset, mask])
    for a, b in zip(grads_ours, grads_theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-9)


def test_a_non_finite_offset_samples_nothing():
    with torch.no_grad():
        x, offset, mask, weight, bias = _inputs(2, (8, 10), 1.0)
        offset[0, 3, 2, 4] = float("nan")
        offset[1, 10, 5, 5] = float("inf")
        offset[1, 21, 0, 0] = float("-inf")
        ours = sampled_deform_conv2d(x, offset, weight, bias, mask, 1)
        far = torch.where(torch.isfinite(offset), offset, torch.full_like(offset, -1e4))
        expected = deform_conv2d(x, far, weight, bias, padding=1, mask=mask)
    assert torch.isfinite(ours).all()
    torch.testing.assert_close(ours, expected, rtol=0, atol=1e-10)
