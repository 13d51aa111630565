"""Run one clip through a model tile by tile, blending the overlaps; split the tile on out-of-memory.

The clip is first padded (reflect) to a multiple of ``spec.multiple_of`` and to at
least ``spec.min_size``, tiled in input coordinates (``plan.plan_tiles``; outputs are ``scale`` times larger),
blended (``blend.TileAccumulator``) and cropped back. On CUDA out-of-memory the tile is halved (never below
``TileOptions.min_size``, the model's ``min_size`` or ``overlap + 1``) and the whole clip is retried; the
:class:`Tiler` remembers the size that worked for the following clips.

Stateful models get one recurrent state per tile, carried in a :class:`TiledState`; when the tile plan
changes (another frame size, or a split after out-of-memory) the states are reset with a warning.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from vrestore.engine.blend import TILE_FEATHER, TileAccumulator
from vrestore.engine.plan import Tile, check_tile, plan_tiles
from vrestore.errors import DeviceError
from vrestore.models.loaded import LoadedModel
from vrestore.models.progress import share
from vrestore.options import TileOptions

log = logging.getLogger("vrestore")


@dataclass
class TiledState:
    """Recurrent states of a stateful model, one per tile of ``tiles``."""

    tiles: tuple[Tile, ...]
    states: list[Any]


def is_out_of_memory(exc: BaseException) -> bool:
    """True for a device out-of-memory error (CUDA's own class or a RuntimeError saying so)."""
    return isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and "out of memory" in str(exc)
    )


def _free_device_memory() -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def pad_to(x: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Pad the last two dims of ``x`` at bottom/right to ``height`` x ``width`` (reflect when it can)."""
    h, w = x.shape[-2:]
    pad_h, pad_w = height - h, width - w
    if pad_h == 0 and pad_w == 0:
        return x
    mode = "reflect" if pad_h < h and pad_w < w else "replicate"
    flat = x.reshape(-1, *x.shape[-3:])
    flat = F.pad(flat, (0, pad_w, 0, pad_h), mode=mode)
    return flat.reshape(*x.shape[:-2], height, width)


class Tiler:
    """Runs clips through ``model`` with the tiling in ``options``; keeps the working tile size."""

    def __init__(self, model: LoadedModel, options: TileOptions, *, feather: float = TILE_FEATHER) -> None:
        spec = model.spec
        size = options.size if options.size is not None else spec.default_tile
        check_tile(size, options.overlap, options.min_size)
        self.model = model
        self.options = options
        self.feather = feather
        self.size: int | None = size or None
        self.min_size = max(options.min_size, spec.min_size, options.overlap + 1)

    def plan(self, height: int, width: int) -> list[Tile]:
        """The tiles for a (padded) ``height`` x ``width`` frame at the current tile size."""
        spec = self.model.spec
        return plan_tiles(height, width, self.size, self.options.overlap, spec.multiple_of, min_size=spec.min_size)

    @torch.inference_mode()
    def run(
        self, clip: torch.Tensor, state: TiledState | None = None, inputs: Mapping[str, Any] | None = None
    ) -> tuple[torch.Tensor, TiledState | None]:
        """Restore ``clip`` (1,T,C,H,W) on the model's device -> ((1,T,C,sH,sW) float32, state).

        ``inputs`` override the model's extra inputs for every tile (e.g. the window's estimated noise level).
        """
        spec = self.model.spec
        h, w = clip.shape[-2:]
        m = spec.multiple_of
        height = -(-max(h, spec.min_size) // m) * m
        width = -(-max(w, spec.min_size) // m) * m
        padded = pad_to(clip, height, width)
        while True:
            tiles = tuple(self.plan(height, width))
            states = self._states_for(tiles, state)
            try:
                out, new_states = self._run_tiles(padded, tiles, states, inputs)
                break
            except Exception as exc:  # noqa: BLE001  (only out-of-memory is handled; the rest re-raised)
                if not is_out_of_memory(exc):
                    raise
            _free_device_memory()
            self._shrink(height, width)
        s = spec.scale
        out = out[..., : s * h, : s * w]
        return out, (TiledState(tiles, new_states) if spec.stateful else None)

    def _states_for(self, tiles: tuple[Tile, ...], state: TiledState | None) -> list[Any]:
        if not self.model.spec.stateful or state is None:
            return [None] * len(tiles)
        if state.tiles != tiles:
            log.warning(
                "the tile layout changed (%d -> %d tiles); the recurrent state of %s restarts here",
                len(state.tiles),
                len(tiles),
                self.model.spec.id,
            )
            return [None] * len(tiles)
        return list(state.states)

    def _shrink(self, height: int, width: int) -> None:
        current = self.size or max(height, width)
        if current <= self.min_size:
            raise DeviceError(f"out of GPU memory even with --tile {current}; try --device cpu or a smaller --clip")
        self.size = max(current // 2, self.min_size)
        log.warning("out of GPU memory with tile %d; retrying with --tile %d", current, self.size)

    def _run_tiles(
        self, clip: torch.Tensor, tiles: tuple[Tile, ...], states: list[Any], inputs: Mapping[str, Any] | None
    ) -> tuple[torch.Tensor, list[Any]]:
        model = self.model
        s = model.spec.scale
        if len(tiles) == 1 and tiles[0].pad == (0, 0):
            out, new_state = model.run(clip, states[0], inputs)
            self._check_shape(out, tiles[0])
            return out, [new_state]
        h, w = clip.shape[-2:]
        acc: TileAccumulator | None = None
        new_states = []
        for i, (tile, tile_state) in enumerate(zip(tiles, states, strict=True)):
            y0, y1, x0, x1 = tile.region
            x = pad_to(clip[..., y0:y1, x0:x1], *tile.fed_size)
            with share(i / len(tiles), 1 / len(tiles)):  # the model's progress reports, per tile
                out, new_state = model.run(x, tile_state, inputs)
            self._check_shape(out, tile)
            if acc is None:  # the output may have other channels than the input
                acc = TileAccumulator((*out.shape[:3], s * h, s * w), s, self.feather, out.device)
            acc.add(tile, out)
            new_states.append(new_state)
            del out, x
        assert acc is not None
        return acc.result(), new_states

    def _check_shape(self, out: torch.Tensor, tile: Tile) -> None:
        s = self.model.spec.scale
        expected = (s * tile.y.fed, s * tile.x.fed)
        if tuple(out.shape[-2:]) != expected:
            raise ValueError(
                f"model {self.model.spec.id} returned {tuple(out.shape[-2:])} for a {tile.fed_size} input; "
                f"expected {expected} (scale {s})"
            )
