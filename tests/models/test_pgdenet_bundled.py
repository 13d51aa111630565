"""The bundled PGDENet weights: they load with no network and an empty cache, and they denoise a real clip."""

from __future__ import annotations

import pytest
import torch

from vrestore.api import load_model
from vrestore.convert import images_to_clip
from vrestore.demo import demo_clip
from vrestore.io.reader import open_reader
from vrestore.metrics.psnr import psnr


@pytest.mark.parametrize("model_id", ["pgdenet.tud", "pgdenet.wide"])
def test_bundled_weights_load_offline_and_remove_noise(tmp_path, monkeypatch, model_id):
    monkeypatch.setenv("VRESTORE_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("VRESTORE_OFFLINE", "1")
    model = load_model(model_id, device="cpu")
    with open_reader(demo_clip()) as reader:
        frames = [frame.image[:, 192:448] for _, frame in zip(range(6), reader, strict=False)]
    clean = images_to_clip(frames)
    noisy = (clean + torch.randn(clean.shape, generator=torch.Generator().manual_seed(0)) * 15 / 255).clamp(0, 1)
    with torch.no_grad():
        restored, _ = model.run(noisy, None)
    gain = psnr(restored[0].clamp(0, 1), clean[0], 1.0).mean() - psnr(noisy[0], clean[0], 1.0).mean()
    assert gain > 1.0
