"""Line plots drawn with OpenCV (per-frame PSNR curves for ``vrestore eval --plot``); no matplotlib needed."""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

# Colour-blind-friendly palette (Okabe-Ito), RGB.
PALETTE = ((0, 114, 178), (230, 159, 0), (0, 158, 115), (204, 121, 167), (86, 180, 233), (213, 94, 0),
           (240, 228, 66), (0, 0, 0))
FONT = cv2.FONT_HERSHEY_SIMPLEX


def nice_ticks(low: float, high: float, count: int = 6) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten apart) covering [low, high]."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def plot_curves(curves: Sequence[tuple[str, Sequence[int], Sequence[float]]], *, title: str, y_label: str,
                size: tuple[int, int] = (960, 480)) -> np.ndarray:
    """An RGB uint8 image of one line per ``(label, x values, y values)``; non-finite y values leave gaps."""
    width, height = size
    image = np.full((height, width, 3), 255, np.uint8)
    left, right, top, bottom = 70, 20, 40, 50
    finite = [y for _, _, ys in curves for y in ys if math.isfinite(y)]
    xs_all = [x for _, xs, _ in curves for x in xs]
    y_ticks = nice_ticks(min(finite, default=0.0), max(finite, default=1.0))
    x_ticks = nice_ticks(min(xs_all, default=0), max(xs_all, default=1), count=8)
    x0, x1, y0, y1 = x_ticks[0], x_ticks[-1], y_ticks[0], y_ticks[-1]

    def to_px(x: float, y: float) -> tuple[int, int]:
        px = left + (x - x0) / (x1 - x0) * (width - left - right)
        py = height - bottom - (y - y0) / (y1 - y0) * (height - top - bottom)
        return round(px), round(py)

    grey, dark = (225, 225, 225), (60, 60, 60)
    for y in y_ticks:
        _, py = to_px(x0, y)
        cv2.line(image, (left, py), (width - right, py), grey, 1)
        cv2.putText(image, f"{y:g}", (8, py + 4), FONT, 0.4, dark, 1, cv2.LINE_AA)
    for x in x_ticks:
        px, _ = to_px(x, y0)
        cv2.line(image, (px, top), (px, height - bottom), grey, 1)
        cv2.putText(image, f"{x:g}", (px - 8, height - bottom + 16), FONT, 0.4, dark, 1, cv2.LINE_AA)
    cv2.rectangle(image, (left, top), (width - right, height - bottom), dark, 1)
    cv2.putText(image, title, (left, 25), FONT, 0.55, dark, 1, cv2.LINE_AA)
    cv2.putText(image, "frame", (width // 2 - 20, height - 12), FONT, 0.45, dark, 1, cv2.LINE_AA)
    cv2.putText(image, y_label, (8, top - 8), FONT, 0.45, dark, 1, cv2.LINE_AA)
    for k, (label, xs, ys) in enumerate(curves):
        colour = PALETTE[k % len(PALETTE)]
        segment: list[tuple[int, int]] = []
        for x, y in [*zip(xs, ys, strict=True), (None, math.nan)]:
            if x is not None and math.isfinite(y):
                segment.append(to_px(x, y))
                continue
            if len(segment) > 1:
                cv2.polylines(image, [np.array(segment, np.int32)], False, colour, 2, cv2.LINE_AA)
            elif segment:
                cv2.circle(image, segment[0], 2, colour, -1)
            segment = []
        ly = top + 18 + 18 * k
        cv2.line(image, (width - right - 200, ly - 4), (width - right - 180, ly - 4), colour, 2)
        cv2.putText(image, label[:28], (width - right - 174, ly), FONT, 0.42, dark, 1, cv2.LINE_AA)
    return image
