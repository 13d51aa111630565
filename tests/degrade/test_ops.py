"""Every degradation operator on analytic cases: statistics, identities, kernels, monotone weather."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tests.degrade.conftest import textured_images
from vrestore.degrade import ops
from vrestore.degrade.blur import KERNEL_TYPES, kernel
from vrestore.degrade.spec import parse_spec
from vrestore.errors import UsageError


def flat(value: float, size: int = 64) -> torch.Tensor:
    return torch.full((3, size, size), value, dtype=torch.float32)


def textured(width: int = 48, height: int = 32) -> torch.Tensor:
    return torch.from_numpy(textured_images(1, width, height)[0]).permute(2, 0, 1).float() / 255


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    return 10 * math.log10(1 / float(((a - b) ** 2).mean()))


@pytest.mark.parametrize("sigma", [10.0, 15.0])
def test_gaussian_noise_has_the_requested_sigma(sigma):
    out = ops.gaussian_noise(flat(0.5), np.random.default_rng(0), sigma=sigma)
    assert abs(float(out.mean()) - 0.5) < 0.002
    assert float(out.std()) == pytest.approx(sigma / 255, rel=0.03)


def test_speckle_noise_scales_with_the_signal():
    out = ops.speckle_noise(flat(0.4), np.random.default_rng(1), sigma=15.0)
    assert float(out.std()) == pytest.approx(0.4 * 15 / 255, rel=0.03)
    assert torch.equal(ops.speckle_noise(flat(0.0), np.random.default_rng(1)), flat(0.0))


def test_poisson_variance_is_signal_over_photons():
    for alpha in (2.0, 3.0):
        out = ops.poisson_noise(flat(0.5, 96), np.random.default_rng(2), alpha=alpha)
        assert float(out.var()) == pytest.approx(0.5 / 10**alpha, rel=0.06)
        assert abs(float(out.mean()) - 0.5) < 0.003


def test_jpeg_quality_100_is_near_identity_and_10_is_blocky():
    x = textured()
    rng = np.random.default_rng(0)
    assert psnr(ops.jpeg_compression(x, rng, quality=100), x) > 40
    assert 18 < psnr(ops.jpeg_compression(x, rng, quality=10), x) < 30


def test_video_intra_compression_degrades_and_is_deterministic():
    x = textured(128, 96)  # 5000 bits for 12288 pixels: 0.4 bit per pixel
    a = ops.video_compression(x, np.random.default_rng(0), codec="libx264", bit_rate=5_000)
    b = ops.video_compression(x, np.random.default_rng(0), codec="libx264", bit_rate=5_000)
    assert torch.equal(a, b) and psnr(a, x) < 40
    rich = ops.video_compression(x, np.random.default_rng(0), codec="libx264", bit_rate=100_000)
    assert psnr(a, x) < psnr(rich, x)
    odd = ops.video_compression(torch.rand(3, 15, 17), np.random.default_rng(0))  # odd size: mpeg4
    assert odd.shape == (3, 15, 17)


@pytest.mark.parametrize("kind", KERNEL_TYPES)
@pytest.mark.parametrize("size", [3, 5, 7])
def test_kernels_sum_to_one_and_are_point_symmetric(kind, size):
    k = kernel(kind, size, 1.3, 0.7, 0.6, beta=2.0)
    assert k.shape == (size, size) and k.sum() == pytest.approx(1.0)
    assert np.allclose(k, k[::-1, ::-1])
    if "aniso" not in kind:
        assert np.allclose(k, k.T) and np.allclose(k, k[::-1, :])


def test_blur_on_flat_image_is_identity_and_smooths_texture():
    rng = np.random.default_rng(3)
    assert torch.allclose(ops.random_blur(flat(0.3), rng), flat(0.3), atol=1e-6)
    x = textured()
    assert float(ops.random_blur(x, rng, kernel="iso", size=7, sigma_x=2.0).std()) < float(x.std())


def test_resize_keep_is_identity_and_others_keep_shape():
    x = textured()
    rng = np.random.default_rng(4)
    assert torch.equal(ops.resize_blur(x, rng, direction="keep", scale=1.0), x)
    for direction, scale in (("up", 1.7), ("down", 0.6)):
        for mode in ("area", "bilinear", "bicubic"):
            out = ops.resize_blur(x, rng, direction=direction, scale=scale, mode=mode)
            assert out.shape == x.shape and not torch.equal(out, x)


@pytest.mark.parametrize("name", ["rain", "snow", "haze"])
def test_weather_grows_monotonically_with_strength(name):
    x = textured()
    params = ops.draw_params(name, np.random.default_rng(5), (32, 48))
    changes = []
    for strength in (0.0, 0.25, 0.5, 0.75, 1.0):
        out = ops.apply_op(name, x, {**params, "strength": strength})
        changes.append(float((out - x).abs().mean()))
    assert changes[0] == 0.0
    assert all(a < b for a, b in zip(changes, changes[1:], strict=False)), changes


def test_rain_and_snow_move_with_the_frame_number():
    x = textured(96, 64)
    for name in ("rain", "snow"):
        p = ops.draw_params(name, np.random.default_rng(6), (64, 96))
        assert not torch.equal(ops.apply_op(name, x, {**p, "t": 0}), ops.apply_op(name, x, {**p, "t": 10}))


@pytest.mark.parametrize("name", sorted(ops.OPS))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_every_op_keeps_shape_dtype_and_range(name, dtype):
    for shape in ((3, 18, 22), (3, 3, 18, 22)):
        x = torch.rand(shape, generator=torch.Generator().manual_seed(0)).to(dtype)
        params = ops.draw_params(name, np.random.default_rng(7), (18, 22))
        out = ops.apply_op(name, x, params)
        assert out.shape == x.shape and out.dtype == dtype
        assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
        assert torch.equal(out, ops.apply_op(name, x, params)), "same parameters must give the same pixels"


def test_ops_use_only_the_given_generator():
    x = textured()
    torch.manual_seed(0)
    np.random.seed(0)
    a = ops.gaussian_noise(x, np.random.default_rng(9))
    torch.manual_seed(1)
    np.random.seed(1)
    b = ops.gaussian_noise(x, np.random.default_rng(9))
    assert torch.equal(a, b)


def test_parse_spec_accepts_values_and_rejects_mistakes():
    spec = parse_spec("resize:direction=down,scale=0.6,mode=area")
    assert spec.overrides == {"direction": "down", "scale": 0.6, "mode": "area"}
    assert parse_spec("jpeg:quality=30").overrides == {"quality": 30}
    for bad, fragment in (("gaussian:sigma=abc", "'abc' is not a number"), ("fog", "unknown degradation"),
                          ("jpeg:q=3", "no parameter 'q'"), ("jpeg:quality=300", "out of range"),
                          ("blur:size=4", "must be odd"), ("resize:mode=nearest", "choose one of")):
        with pytest.raises(UsageError, match=fragment):
            parse_spec(bad)
