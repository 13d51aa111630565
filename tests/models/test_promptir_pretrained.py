"""The official PromptIR checkpoint: it loads (Lightning file, weights_only) and denoises a real frame.

Needs the file: downloaded on first use (network), or from VRESTORE_WEIGHTS_MIRROR (a folder holding
model.ckpt) on an offline machine. Run with ``pytest -m pretrained tests/models/test_promptir_pretrained.py``.
"""

from __future__ import annotations

import hashlib

import av
import numpy as np
import pytest
import torch

from vrestore.api import load_model
from vrestore.metrics.psnr import psnr
from vrestore.models.loaded import resolve_device
from vrestore.weights.store import Store

pytestmark = [pytest.mark.pretrained, pytest.mark.network]


def _clean_crop() -> torch.Tensor:
    from scripts.golden_allinone import CLIP

    with av.open(str(CLIP)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    return torch.from_numpy(np.ascontiguousarray(frame[52:308, 192:448])).permute(2, 0, 1)[None].float() / 255


def test_official_checkpoint_denoises_sigma_25():
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = load_model("promptir.3task", device=device)
    clean = _clean_crop().to(resolve_device(device))
    noisy = (clean + torch.randn(clean.shape, generator=torch.Generator().manual_seed(0)).to(clean.device) * 25 / 255)
    noisy = (noisy * 255).round().clamp(0, 255) / 255
    with torch.no_grad():
        restored = model.module(noisy).clamp(0, 1)
    before = psnr(noisy.cpu(), clean.cpu(), 1.0).item()
    after = psnr(restored.cpu(), clean.cpu(), 1.0).item()
    path = Store().cached("promptir.3task")
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path else "?"
    size = path.stat().st_size if path else "?"
    print(f"PromptIR sigma 25 on a 256x256 Chaplin crop: {before:.2f} dB -> {after:.2f} dB; "
          f"checkpoint {path} sha256 {digest} size {size}")
    assert after > before + 3.0
