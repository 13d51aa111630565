"""``--dtype auto``: bf16 only on CPUs with fast bf16 and only for models checked in bf16; fp32 elsewhere."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import torch

from vrestore.errors import UsageError
from vrestore.models import get_spec, resolve_dtype
from vrestore.models import loaded as loaded_module
from vrestore.models.loaded import LoadedModel, cpu_has_fast_bf16, dtype_name

CPU = torch.device("cpu")


@pytest.fixture
def fast_bf16(monkeypatch):
    """Force the CPU capability probe on or off: ``fast_bf16(True)``."""

    def force(value: bool) -> None:
        monkeypatch.setattr(loaded_module, "cpu_has_fast_bf16", lambda: value)

    return force


def test_auto_picks_bf16_for_a_checked_model_on_a_fast_cpu(fast_bf16) -> None:
    fast_bf16(True)
    assert get_spec("pgdenet.tud").auto_bf16
    assert resolve_dtype("auto", get_spec("pgdenet.tud"), CPU) is torch.bfloat16
    assert resolve_dtype("AUTO", get_spec("pgdenet.official"), CPU) is torch.bfloat16


def test_auto_keeps_fp32_without_fast_bf16(fast_bf16) -> None:
    fast_bf16(False)
    assert resolve_dtype("auto", get_spec("pgdenet.tud"), CPU) is torch.float32


def test_auto_keeps_fp32_for_unchecked_models_and_on_cuda(fast_bf16) -> None:
    fast_bf16(True)
    unchecked = [s for s in map(get_spec, ("rvrt.denoise-davis", "pgdenet.test", "tiny.test")) if not s.auto_bf16]
    assert len(unchecked) == 3
    for spec in unchecked:
        assert resolve_dtype("auto", spec, CPU) is torch.float32
    assert resolve_dtype("auto", get_spec("pgdenet.tud"), torch.device("cuda")) is torch.float32
    # Checked but not allowed: a spec that cannot run bf16 is never picked in bf16.
    refused = replace(get_spec("pgdenet.tud"), supports_bfloat16=False)
    assert resolve_dtype("auto", refused, CPU) is torch.float32


def test_explicit_dtypes_are_kept_and_bad_ones_refused(fast_bf16) -> None:
    fast_bf16(True)
    spec = get_spec("pgdenet.tud")
    assert resolve_dtype("fp32", spec, CPU) is torch.float32
    assert resolve_dtype("bf16", spec, CPU) is torch.bfloat16
    with pytest.raises(UsageError, match="use auto, fp32, fp16 or bf16"):
        resolve_dtype("fp64", spec, CPU)
    assert [dtype_name(d) for d in (torch.float32, torch.float16, torch.bfloat16)] == ["fp32", "fp16", "bf16"]


def test_fp32_is_exact() -> None:
    # --dtype fp32 runs the module as it is: no autocast, bit-identical to calling the network directly.
    spec = get_spec("pgdenet.test")
    module = spec.factory().eval()
    model = LoadedModel(spec, module, dtype=resolve_dtype("fp32", spec, CPU))
    clip = torch.rand(1, 3, 3, spec.min_size, spec.min_size, generator=torch.Generator().manual_seed(3))
    out, _ = model.run(clip)
    with torch.no_grad():
        direct = module(clip)
    assert torch.equal(out, direct)


def test_the_capability_probe_agrees_with_the_kernel() -> None:
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.exists():
        pytest.skip("no /proc/cpuinfo to compare with (not Linux)")
    flags = set(cpuinfo.read_text().split())
    assert cpu_has_fast_bf16() == bool({"avx512_bf16", "amx_tile"} & flags)
