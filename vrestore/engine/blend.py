"""Blending weights for overlapping tiles and windows, and the accumulators that apply them.

One rule for both axes: inside the zone two neighbours share (see ``plan.Span``), the weight ramps
linearly over the central ``feather`` fraction of the zone, centred on their keep boundary; it is exactly
1 where a single span covers and exactly 0 outside a span's ramps. Neighbours' ramps are complementary, and
the accumulated sum is divided by the summed weights, so an identity model gives back its input.

- ``feather = 0``: a hard cut at the keep boundaries. Exact for a model whose receptive-field radius is at
  most ``overlap // 2``. This is the default for **windows** (each frame comes from the one window that
  keeps it: no ghosting of motion, and frames can be emitted as soon as their window is done).
- ``feather = 0.5`` (chaiNNer's "half overlap" ramp): the default for **tiles**; it hides seams of models
  with a large receptive field and is still exact when the radius is at most ``overlap // 4``
  (precisely: ``(1 - feather) * overlap / 2``).
- ``feather = 1``: a linear cross-fade over the whole zone (vs-rvrt style for windows).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import Generic, TypeVar

import torch

from vrestore.engine.plan import Span, Tile, Window

TILE_FEATHER = 0.5
WINDOW_FEATHER = 0.0

Item = TypeVar("Item")


def _check_feather(feather: float) -> None:
    if not 0.0 <= feather <= 1.0:
        raise ValueError(f"feather must be within [0, 1], got {feather}")


def _ramp(boundary: int, overlap: int, feather: float, scale: int) -> tuple[int, int]:
    """``(first, width)`` of the ramp around keep ``boundary`` (output coordinates)."""
    half = scale * (overlap // 2)
    width = min(round(feather * scale * overlap), 2 * half)
    return scale * boundary - width // 2, width


def span_weights(span: Span, feather: float, scale: int = 1) -> torch.Tensor:
    """Float32 weights over the span's real output samples ``[scale * start, scale * stop)``."""
    _check_feather(feather)
    coords = torch.arange(scale * span.start, scale * span.stop, dtype=torch.float64)
    weights = torch.ones_like(coords)
    # Without an overlap the ramp has no width: a hard cut at the keep boundary, which also zeroes the
    # context a tile was grown by (to a multiple of the model's size) and is a no-op at the axis ends.
    first, width = _ramp(span.keep_start, span.overlap_before, feather, scale)
    weights *= _rising(coords, first, width)
    first, width = _ramp(span.keep_stop, span.overlap_after, feather, scale)
    weights *= 1.0 - _rising(coords, first, width)
    return weights.float()


def _rising(coords: torch.Tensor, first: int, width: int) -> torch.Tensor:
    """0 before ``first``, a linear ramp at pixel centres over ``width`` samples, then 1."""
    if width == 0:
        return (coords >= first).double()
    return ((coords - first + 0.5) / width).clamp_(0.0, 1.0)


def nonzero_range(span: Span, feather: float, scale: int = 1) -> tuple[int, int]:
    """Output range ``[lo, hi)`` where the span's weight is non-zero (what it contributes to)."""
    lo = _ramp(span.keep_start, span.overlap_before, feather, scale)[0]
    first, width = _ramp(span.keep_stop, span.overlap_after, feather, scale)
    return lo, first + width


class TileAccumulator:
    """Sums weighted tile outputs into a (1,T,C,sH,sW) canvas and normalises by the summed weights."""

    def __init__(self, shape: Sequence[int], scale: int, feather: float, device: torch.device | str) -> None:
        _check_feather(feather)
        self.scale = scale
        self.feather = feather
        self.out = torch.zeros(tuple(shape), dtype=torch.float32, device=device)
        self.weight = torch.zeros(tuple(shape[-2:]), dtype=torch.float32, device=device)

    def add(self, tile: Tile, output: torch.Tensor) -> None:
        """Add the model's ``output`` for ``tile`` (fed size times scale, padding included)."""
        s = self.scale
        y_lo, y_hi = nonzero_range(tile.y, self.feather, s)
        x_lo, x_hi = nonzero_range(tile.x, self.feather, s)
        y0, x0 = s * tile.y.start, s * tile.x.start
        wy = span_weights(tile.y, self.feather, s)[y_lo - y0 : y_hi - y0]
        wx = span_weights(tile.x, self.feather, s)[x_lo - x0 : x_hi - x0]
        weight = (wy[:, None] * wx[None, :]).to(self.out.device)
        part = output[..., y_lo - y0 : y_hi - y0, x_lo - x0 : x_hi - x0]
        self.out[..., y_lo:y_hi, x_lo:x_hi].add_(part * weight)
        self.weight[y_lo:y_hi, x_lo:x_hi].add_(weight)

    def result(self) -> torch.Tensor:
        """The blended canvas (consumes the accumulator)."""
        return self.out.div_(self.weight)


class WindowBlender(Generic[Item]):
    """Combines consecutive windows' outputs frame by frame and releases frames once they are final.

    ``add`` takes a window, its output (T,C,H,W) and one payload per fed frame (e.g. the input ``Frame``)
    and returns ``(payload, image)`` for every frame that no later window can touch, in frame order.
    With ``feather=0`` (the default) nothing is held back and images are views of the window's output.
    """

    def __init__(self, feather: float = WINDOW_FEATHER) -> None:
        _check_feather(feather)
        self.feather = feather
        self._pending: OrderedDict[int, list] = OrderedDict()

    def add(self, window: Window, output: torch.Tensor, items: Sequence[Item]) -> list[tuple[Item, torch.Tensor]]:
        """Fold in ``window``; return the frames that are now complete."""
        if output.shape[0] != window.length or len(items) != window.length:
            raise ValueError(f"window {window.start}..{window.stop} needs {window.length} outputs and items")
        weights = span_weights(window, self.feather).tolist()
        for offset, weight in enumerate(weights):
            if weight == 0.0:
                continue
            index = window.start + offset
            entry = self._pending.get(index)
            if entry is None:
                image = output[offset] if weight == 1.0 else output[offset] * weight
                self._pending[index] = [items[offset], image, weight]
            else:
                entry[1] = entry[1] + output[offset] * weight
                entry[2] += weight
        # The next window contributes from the start of the ramp it shares with this one.
        final = _ramp(window.keep_stop, window.overlap_after, self.feather, 1)[0]
        ready = []
        while self._pending and next(iter(self._pending)) < final:
            _, (item, image, total) = self._pending.popitem(last=False)
            ready.append((item, image if total == 1.0 else image / total))
        return ready

    @property
    def pending(self) -> int:
        """How many frames are waiting for a later window."""
        return len(self._pending)
