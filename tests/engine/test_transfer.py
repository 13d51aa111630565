"""Uploads and deferred downloads give back exactly the input images (uint8 and uint16; CPU, and CUDA when present)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vrestore.convert import peak_of, stack_images
from vrestore.engine.transfer import Uploader, start_download

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=[pytest.mark.gpu,
                                pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_round_trip_is_exact(device: str, dtype: type) -> None:
    rng = np.random.default_rng(0)
    images = [rng.integers(0, peak_of(dtype) + 1, (10, 12, 3)).astype(dtype) for _ in range(3)]
    host = stack_images(images, pin=device == "cuda")
    clip = Uploader(device)(host, peak_of(dtype))
    assert clip.shape == (1, 3, 3, 10, 12) and clip.dtype == torch.float32 and clip.device.type == device
    pending = start_download(clip[0], dtype)
    out = pending.wait()
    assert all(a.dtype == dtype and np.array_equal(a, b) for a, b in zip(out, images, strict=True))
