"""fp16/bf16 (autocast) paths: they run on the CPU where torch supports them, and lose <= 0.02 dB on a real clip;
models that ``--dtype auto`` runs in bf16 lose <= 0.05 dB with their real weights."""

from __future__ import annotations

import pytest
import torch

from tests.helpers import real_frames
from vrestore.engine.precision import add_noise, precision_gap
from vrestore.models import build, get_spec, list_models
from vrestore.models.loaded import LoadedModel

CLIP = "clips/bikes-640x272.mp4"
_DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def cpu_autocast_supports(dtype: torch.dtype) -> str | None:
    """None when a convolution runs under CPU autocast in ``dtype``; else why not."""
    try:
        with torch.autocast("cpu", dtype=dtype):
            out = torch.nn.functional.conv2d(torch.rand(1, 3, 8, 8), torch.rand(4, 3, 3, 3), padding=1)
    except Exception as exc:  # noqa: BLE001
        return f"torch {torch.__version__} cannot autocast convolutions to {dtype} on the CPU: {exc}"
    return None if out.dtype == dtype else f"torch {torch.__version__} CPU autocast ignores {dtype}"


def tiny(dtype: str, device: str = "cpu") -> LoadedModel:
    spec = get_spec("tiny.test")
    return LoadedModel(spec, build(spec), device=device, dtype=_DTYPES.get(dtype, torch.float32))


@pytest.mark.parametrize("dtype", ["bf16", "fp16"])
def test_low_precision_runs_on_cpu(dtype: str) -> None:
    reason = cpu_autocast_supports(_DTYPES[dtype])
    if reason:
        pytest.skip(reason)
    x = torch.rand(1, 2, 3, 24, 32, generator=torch.Generator().manual_seed(0))
    reference, _ = tiny("fp32").run(x)
    out, _ = tiny(dtype).run(x)
    assert out.dtype == torch.float32 and out.shape == reference.shape
    # The weights stay float32 and the residual path is not autocast, so the difference is small but real.
    difference = (out - reference).abs().max().item()
    assert 0 < difference < 0.01


@pytest.mark.parametrize("dtype", ["bf16", "fp16"])
def test_tiny_model_keeps_quality_on_a_real_clip(shared_data, dtype: str) -> None:
    reason = cpu_autocast_supports(_DTYPES[dtype])
    if reason:
        pytest.skip(reason)
    clean = real_frames(shared_data / CLIP, count=4)
    gap = precision_gap(tiny, clean, add_noise(clean, sigma=15), dtype)
    assert gap.psnr_fp32 > 20 and gap.gap_db <= 0.02, gap


@pytest.mark.gpu
@pytest.mark.pretrained
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(
    ("model_id", "dtype"),
    [(s.id, d) for s in list_models() if s.weights for d, ok in (("fp16", s.supports_half),
                                                                 ("bf16", s.supports_bfloat16)) if ok],
)
def test_real_models_keep_quality_on_gpu(shared_data, model_id: str, dtype: str) -> None:
    from vrestore.api import load_model
    from vrestore.weights.store import Store

    spec = get_spec(model_id)
    if Store().cached(spec.weights) is None:
        pytest.skip(f"weights of {model_id} are not cached (run 'vrestore models download {model_id}')")
    clean = real_frames(shared_data / CLIP, count=spec.clip_length or 8)
    gap = precision_gap(lambda d: load_model(model_id, device="cuda", dtype=d), clean, add_noise(clean, 25), dtype)
    assert gap.gap_db <= 0.02, gap


AUTO_BF16_LIMIT_DB = 0.05  # the rule: a model that loses more stays fp32 under --dtype auto


@pytest.mark.parametrize("model_id", [s.id for s in list_models() if s.auto_bf16 and s.weights])
def test_models_run_in_bf16_by_auto_keep_their_quality(shared_data, model_id: str) -> None:
    from vrestore.api import load_model
    from vrestore.weights.store import Store

    reason = cpu_autocast_supports(torch.bfloat16)
    if reason:
        pytest.skip(reason)
    spec = get_spec(model_id)
    if Store().cached(spec.weights) is None:
        pytest.skip(f"weights of {model_id} are not cached (run 'vrestore models download {model_id}')")
    # 12 frames of a real clip, cropped to keep the test short; TUD-like noise the model was trained on.
    clean = real_frames(shared_data / CLIP, count=12, crop=(256, 320))
    gap = precision_gap(lambda d: load_model(model_id, device="cpu", dtype=d), clean, add_noise(clean, 15), "bf16")
    assert gap.psnr_low > mean_noisy_psnr(clean) and gap.gap_db <= AUTO_BF16_LIMIT_DB, gap


def mean_noisy_psnr(clean) -> float:
    from vrestore.engine.precision import mean_psnr

    return mean_psnr(add_noise(clean, 15), clean)
