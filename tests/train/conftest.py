"""Fixtures for training tests: a small textured clip as a frame folder, and recipe files."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml


def textured_frames(count: int, size: int = 48, seed: int = 0) -> list[np.ndarray]:
    """A slowly panning random texture (smoothed noise), uint8 RGB."""
    rng = np.random.default_rng(seed)
    big = cv2.GaussianBlur(rng.integers(0, 256, (size * 2, size * 2, 3)).astype(np.float32), (0, 0), 2.0)
    big = cv2.normalize(big, None, 20, 235, cv2.NORM_MINMAX)
    return [np.ascontiguousarray(big[i : i + size, 2 * i : 2 * i + size]).astype(np.uint8) for i in range(count)]


@pytest.fixture()
def frame_folder(tmp_path: Path) -> Path:
    """Eight 48x48 frames as PNG files in clips/texture/."""
    folder = tmp_path / "clips" / "texture"
    folder.mkdir(parents=True)
    for i, image in enumerate(textured_frames(8)):
        cv2.imwrite(str(folder / f"{i:03d}.png"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    return folder


@pytest.fixture()
def write_recipe(tmp_path: Path, frame_folder: Path) -> Callable[..., Path]:
    """``write_recipe(**settings)``: a tiny.test recipe on ``frame_folder`` with ``settings`` merged in."""

    def write(name: str = "recipe.yml", **settings: object) -> Path:
        data = {"frames": 3, "crop": 32, "intervals": [2, 3], "val_frames": 3, "val_crop": 32,
                **settings.pop("data", {})}  # type: ignore[dict-item]
        recipe = {"model": "tiny.test", "output": "run", "steps": 6, "batch_size": 2, "lr": 1e-3,
                  "checkpoint_every": 100, "val_every": 100, "log_every": 1, "ema_decay": 0.5,
                  "data": {"train": [str(frame_folder.parent)], **data}, **settings}
        path = tmp_path / name
        path.write_text(yaml.safe_dump(recipe), encoding="utf-8")
        return path

    return write
