"""Small clean clips for the degradation tests (frame folders of PNGs, tiny so the tests stay fast)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest


def textured_images(count: int, width: int = 32, height: int = 24, seed: int = 0) -> list[np.ndarray]:
    """Moving gradients plus fixed texture: uint8 RGB frames."""
    rng = np.random.default_rng(seed)
    texture = rng.integers(0, 60, (height, width, 1))  # luma texture (survives 4:2:0)
    yy, xx = np.mgrid[0:height, 0:width]
    frames = []
    for i in range(count):
        base = np.stack([40 + xx * 120 // width + 3 * i, 40 + yy * 120 // height, np.full_like(xx, 90 + i)], -1)
        frames.append(np.clip(base + texture, 0, 255).astype(np.uint8))
    return frames


def write_frames(folder: Path, images: list[np.ndarray]) -> Path:
    folder.mkdir(parents=True)
    for i, image in enumerate(images):
        cv2.imwrite(str(folder / f"{i:05d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return folder


def read_frames(folder: Path) -> list[np.ndarray]:
    return [cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in sorted(folder.glob("*.png"))]


@pytest.fixture()
def frame_folder(tmp_path: Path) -> Callable[..., Path]:
    """``frame_folder(name="clean", count=8, width=32, height=24)``: a folder of PNG frames."""

    def make(name: str = "clean", count: int = 8, width: int = 32, height: int = 24) -> Path:
        return write_frames(tmp_path / name, textured_images(count, width, height))

    return make
