"""Composing comparison pictures: panels in a row or grid with label bands, a split-screen wipe, detail crops.

Pure numpy/OpenCV on (H, W, 3) RGB arrays (uint8 or uint16). Panels are pasted pixel for pixel (labels sit
in a band above each panel, never on the picture), so a lossless comparison holds the sources' exact pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from vrestore.convert import to_depth
from vrestore.errors import UsageError

GAP = 4  # pixels between panels
LAYOUTS = ("auto", "row", "column", "grid")


@dataclass(frozen=True)
class Crop:
    """A detail region in source pixels, shown ``zoom`` times larger (nearest neighbour)."""

    x: int
    y: int
    w: int
    h: int
    zoom: int = 1


def parse_crop(text: str, zoom: int = 1) -> Crop:
    """``"x,y,w,h"`` -> Crop; a UsageError that shows the format otherwise."""
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise UsageError(f"--crop '{text}' must be four integers x,y,w,h (e.g. 100,50,320,180)") from None
    if w < 1 or h < 1 or x < 0 or y < 0:
        raise UsageError(f"--crop '{text}': x and y must be >= 0 and w, h >= 1")
    if zoom < 1:
        raise UsageError(f"--zoom {zoom} must be at least 1")
    return Crop(x, y, w, h, zoom)


def prepare(image: np.ndarray, crop: Crop | None) -> np.ndarray:
    """Apply the detail crop (clipped to the picture) and its nearest-neighbour zoom."""
    if crop is None:
        return image
    h, w = image.shape[:2]
    if crop.x >= w or crop.y >= h:
        raise UsageError(f"--crop starts at ({crop.x},{crop.y}), outside the {w}x{h} picture")
    part = image[crop.y : min(h, crop.y + crop.h), crop.x : min(w, crop.x + crop.w)]
    if crop.zoom > 1:
        part = np.repeat(np.repeat(part, crop.zoom, axis=0), crop.zoom, axis=1)
    return np.ascontiguousarray(part)


@dataclass(frozen=True)
class Grid:
    """Where panels go: ``rows`` x ``cols`` cells of ``cell_w`` x ``cell_h`` under a ``band`` of label."""

    rows: int
    cols: int
    cell_w: int
    cell_h: int
    band: int

    @property
    def width(self) -> int:
        """Canvas width."""
        return self.cols * self.cell_w + (self.cols - 1) * GAP

    @property
    def height(self) -> int:
        """Canvas height."""
        return self.rows * (self.cell_h + self.band) + (self.rows - 1) * GAP

    def origin(self, k: int) -> tuple[int, int]:
        """Top-left (x, y) of panel ``k``'s picture (below its label band)."""
        row, col = divmod(k, self.cols)
        return col * (self.cell_w + GAP), row * (self.cell_h + self.band + GAP) + self.band


def band_height(cell_h: int) -> int:
    """Label band height: readable on small videos, proportionate on large ones."""
    return max(18, round(cell_h * 0.05))


def plan_grid(sizes: Sequence[tuple[int, int]], layout: str = "auto", columns: int | None = None) -> Grid:
    """A grid for panels of ``sizes`` (w, h): 2-3 in a row, 4 as 2x2 for ``auto``; cells fit the largest."""
    if layout not in LAYOUTS:
        raise UsageError(f"layout '{layout}' is unknown; use one of {', '.join(LAYOUTS)}")
    n = len(sizes)
    if columns is None:
        columns = {"row": n, "column": 1, "grid": int(np.ceil(np.sqrt(n)))}.get(layout, 2 if n == 4 else n)
    rows = int(np.ceil(n / columns))
    cell_w, cell_h = max(w for w, _ in sizes), max(h for _, h in sizes)
    return Grid(rows, columns, cell_w, cell_h, band_height(cell_h))


def compose(images: Sequence[np.ndarray], labels: Sequence[str], grid: Grid) -> np.ndarray:
    """Paste ``images`` into ``grid`` (centred in their cell, black letterbox) with a label band above each."""
    dtype = np.uint16 if any(im.dtype == np.uint16 for im in images) else np.uint8
    canvas = np.zeros((grid.height, grid.width, 3), dtype)
    for k, (image, label) in enumerate(zip(images, labels, strict=True)):
        x, y = grid.origin(k)
        h, w = image.shape[:2]
        ox, oy = x + (grid.cell_w - w) // 2, y + (grid.cell_h - h) // 2
        canvas[oy : oy + h, ox : ox + w] = to_depth(image, dtype)
        draw_label(canvas, label, x, y - grid.band, grid.cell_w, grid.band)
    return canvas


def split(left: np.ndarray, right: np.ndarray, labels: Sequence[str], position: float = 0.5) -> np.ndarray:
    """One picture: ``left`` up to the wipe line at ``position`` (0..1 of the width), ``right`` after it."""
    if left.shape[:2] != right.shape[:2]:
        raise UsageError("--split needs two inputs of the same size; use the side-by-side layout instead")
    if not 0.0 < position < 1.0:
        raise UsageError(f"--split-position {position} must be between 0 and 1 (exclusive)")
    dtype = np.uint16 if np.uint16 in (left.dtype, right.dtype) else np.uint8
    h, w = left.shape[:2]
    band = band_height(h)
    canvas = np.zeros((h + band, w, 3), dtype)
    cut = min(w - 1, max(1, round(w * position)))
    canvas[band:, :cut] = to_depth(left, dtype)[:, :cut]
    canvas[band:, cut:] = to_depth(right, dtype)[:, cut:]
    canvas[band:, cut - 1 : cut + 1] = np.iinfo(dtype).max  # the wipe line, 2 px over the seam
    draw_label(canvas, labels[0], 0, 0, cut, band)
    draw_label(canvas, labels[1], cut, 0, w - cut, band, align="right")
    return canvas


def draw_label(canvas: np.ndarray, text: str, x: int, y: int, width: int, band: int, align: str = "left") -> None:
    """White text in the band ``[y, y+band) x [x, x+width)``, shortened to fit."""
    if not text or width < 8:
        return
    scale = band / 40.0
    thickness = max(1, round(band / 20))
    font = cv2.FONT_HERSHEY_SIMPLEX
    while text and cv2.getTextSize(text, font, scale, thickness)[0][0] > width - 6:
        text = text[:-2] + "~" if len(text) > 2 else ""  # Hershey fonts have ASCII only
    (tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
    tx = x + 3 if align == "left" else x + width - tw - 3
    ty = y + (band + th) // 2
    peak = int(np.iinfo(canvas.dtype).max)
    region = canvas[y : y + band, x : x + width]
    view = np.ascontiguousarray(region)
    cv2.putText(view, text, (tx - x, ty - y), font, scale, (peak, peak, peak), thickness, cv2.LINE_AA)
    region[...] = view


