"""Tiled inference equals untiled inference; out-of-memory splits the tile; per-tile recurrent state."""

from __future__ import annotations

import logging

import pytest
import torch

from vrestore.engine.tiling import TiledState, Tiler
from vrestore.errors import DeviceError, UsageError
from vrestore.models.spec import Temporal
from vrestore.options import TileOptions

from .toy_models import ConvNet, Identity, OutOfMemoryAbove, PixelShuffleUp, RunningAverage, make_model, random_clip


@pytest.mark.parametrize("multiple", [1, 8])
@pytest.mark.parametrize("tile, overlap", [(None, 16), (8, 0), (10, 4), (16, 9), (100, 8)])
def test_identity_is_exact(multiple: int, tile: int | None, overlap: int) -> None:
    model = make_model(Identity(), multiple_of=multiple)
    clip = random_clip(2, 37, 29)
    out, state = Tiler(model, TileOptions(tile, overlap, min_size=4)).run(clip)
    assert state is None and out.dtype == torch.float32
    torch.testing.assert_close(out, clip, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "tile, overlap, feather",
    [(12, 6, 0.0), (12, 2 * ConvNet.radius, 0.0), (16, 12, 0.5), (9, 8, 0.0), (20, 12, 1 / 3)],
)
def test_conv_net_tiled_equals_untiled(tile: int, overlap: int, feather: float) -> None:
    # Exact when the receptive-field radius r <= (1 - feather) * overlap / 2: hard cut needs overlap >= 2r.
    model = make_model(ConvNet())
    clip = random_clip(2, 41, 35, seed=1)
    reference, _ = model.run(clip)
    out, _ = Tiler(model, TileOptions(tile, overlap, min_size=4), feather=feather).run(clip)
    torch.testing.assert_close(out, reference, rtol=0, atol=1e-5)


def test_too_small_overlap_is_not_exact() -> None:
    model = make_model(ConvNet())
    clip = random_clip(1, 41, 35, seed=1)
    reference, _ = model.run(clip)
    out, _ = Tiler(model, TileOptions(12, 2, min_size=4), feather=0.0).run(clip)
    assert (out - reference).abs().max() > 1e-3


@pytest.mark.parametrize("multiple", [1, 4])
def test_scale_two_tiled_equals_untiled(multiple: int) -> None:
    model = make_model(PixelShuffleUp(), scale=2, multiple_of=multiple)
    clip = random_clip(2, 23, 30, seed=2)
    reference, _ = Tiler(model, TileOptions(0)).run(clip)
    out, _ = Tiler(model, TileOptions(8, 4, min_size=4)).run(clip)
    assert out.shape == (1, 2, 3, 46, 60)
    torch.testing.assert_close(out, reference, rtol=0, atol=1e-5)
    if multiple == 1:
        torch.testing.assert_close(reference, model.run(clip)[0], rtol=0, atol=1e-6)


def test_padding_to_multiple_and_min_size_is_cropped_back() -> None:
    inner = OutOfMemoryAbove(Identity(), max_pixels=10**9)
    model = make_model(inner, multiple_of=8, min_size=16)
    clip = random_clip(1, 5, 19)
    out, _ = Tiler(model, TileOptions(None)).run(clip)
    assert inner.sizes == [(16, 24)]
    torch.testing.assert_close(out, clip, rtol=0, atol=0)


@pytest.mark.parametrize("plain", [False, True])
def test_out_of_memory_halves_the_tile_and_keeps_the_output(plain: bool, caplog: pytest.LogCaptureFixture) -> None:
    net = ConvNet()
    guard = OutOfMemoryAbove(net, max_pixels=30 * 30, plain_runtime_error=plain)
    model = make_model(guard)
    clip = random_clip(2, 64, 64, seed=3)
    reference, _ = make_model(net).run(clip)
    tiler = Tiler(model, TileOptions(None, overlap=12, min_size=8), feather=0.5)
    with caplog.at_level(logging.WARNING, logger="vrestore"):
        out, _ = tiler.run(clip)
    assert tiler.size == 16  # 64 -> 32 (fed 32 + 12 > 30) -> 16
    assert "out of GPU memory" in caplog.text
    torch.testing.assert_close(out, reference, rtol=0, atol=1e-5)
    calls = len(guard.sizes)
    tiler.run(clip)
    assert all(h * w <= 30 * 30 for h, w in guard.sizes[calls:]), "the working tile size is remembered"


def test_device_error_when_even_the_smallest_tile_fails() -> None:
    model = make_model(OutOfMemoryAbove(Identity(), max_pixels=100))
    with pytest.raises(DeviceError, match="out of GPU memory even with --tile 16"):
        Tiler(model, TileOptions(64, overlap=4, min_size=16)).run(random_clip(1, 64, 64))


def test_other_errors_are_not_retried() -> None:
    class Broken(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raise RuntimeError("shape mismatch")

    with pytest.raises(RuntimeError, match="shape mismatch"):
        Tiler(make_model(Broken()), TileOptions(8, 2, min_size=4)).run(random_clip(1, 16, 16))


def test_bad_tile_options() -> None:
    model = make_model(Identity())
    with pytest.raises(UsageError, match="overlap 16 must be smaller than the tile size 8"):
        Tiler(model, TileOptions(8, 16))
    with pytest.raises(UsageError, match="tile size"):
        Tiler(model, TileOptions(-3))


def test_model_default_tile_is_used_when_size_is_none() -> None:
    guard = OutOfMemoryAbove(Identity(), max_pixels=10**9)
    model = make_model(guard, default_tile=16)
    Tiler(model, TileOptions(None, overlap=4, min_size=4)).run(random_clip(1, 40, 40))
    assert len(guard.sizes) == 9
    guard.sizes.clear()
    Tiler(model, TileOptions(0, overlap=4, min_size=4)).run(random_clip(1, 40, 40))
    assert guard.sizes == [(40, 40)], "size 0 means the whole frame"


def stateful_model() -> object:
    return make_model(RunningAverage(), temporal=Temporal.CLIP, stateful=True)


def test_stateful_state_per_tile_equals_untiled() -> None:
    model = stateful_model()
    clip = random_clip(6, 24, 20, seed=4)
    whole, _ = model.run(clip)
    tiler = Tiler(model, TileOptions(10, 4, min_size=4))
    state = None
    outs = []
    for t in range(0, 6, 2):
        out, state = tiler.run(clip[:, t : t + 2], state)
        outs.append(out)
        assert isinstance(state, TiledState) and len(state.states) == len(state.tiles) == 6
    torch.testing.assert_close(torch.cat(outs, dim=1), whole, rtol=0, atol=1e-6)


def test_stateful_state_resets_with_a_warning_when_tiles_change(caplog: pytest.LogCaptureFixture) -> None:
    model = stateful_model()
    clip = random_clip(2, 24, 20, seed=4)
    _, state = Tiler(model, TileOptions(10, 4, min_size=4)).run(clip)
    with caplog.at_level(logging.WARNING, logger="vrestore"):
        out, new_state = Tiler(model, TileOptions(None)).run(clip, state)
    assert "recurrent state" in caplog.text and len(new_state.states) == 1
    torch.testing.assert_close(out, model.run(clip)[0], rtol=0, atol=1e-6)
