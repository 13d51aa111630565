"""--compile: torch.compile when it works, a warning and the eager module when it does not."""

from __future__ import annotations

import logging

import pytest
import torch

from vrestore.engine.accel import CompiledOrEager, accelerate
from vrestore.models import build, get_spec
from vrestore.models.loaded import LoadedModel


def tiny() -> LoadedModel:
    spec = get_spec("tiny.test")
    return LoadedModel(spec, build(spec))


def clip() -> torch.Tensor:
    return torch.rand(1, 2, 3, 16, 20, generator=torch.Generator().manual_seed(0))


def test_failure_on_first_call_falls_back_to_eager(monkeypatch, caplog) -> None:
    def broken_compile(module, **kwargs):
        def call(*args, **kw):
            raise RuntimeError("InductorError: no working C++ compiler\nlong trace")
        return call

    monkeypatch.setattr(torch, "compile", broken_compile)
    model = tiny()
    expected, _ = model.run(clip())
    accelerate(model, compile=True)
    assert isinstance(model.module, CompiledOrEager) and model.module.active
    with caplog.at_level(logging.WARNING, logger="vrestore"):
        out, _ = model.run(clip())
        again, _ = model.run(clip())
    assert torch.equal(out, expected) and torch.equal(again, expected)
    assert not model.module.active
    warnings = [r.getMessage() for r in caplog.records if "torch.compile failed" in r.getMessage()]
    assert len(warnings) == 1 and "no working C++ compiler" in warnings[0] and "long trace" not in warnings[0]


def test_failure_when_compiling_falls_back(monkeypatch, caplog) -> None:
    def refuse(module, **kwargs):
        raise RuntimeError("torch.compile is not supported on this platform")

    monkeypatch.setattr(torch, "compile", refuse)
    model = tiny()
    expected, _ = model.run(clip())
    with caplog.at_level(logging.WARNING, logger="vrestore"):
        accelerate(model, compile=True)
    assert "not supported on this platform" in caplog.text
    assert torch.equal(model.run(clip())[0], expected)


def test_out_of_memory_is_not_swallowed(monkeypatch) -> None:
    def oom_compile(module, **kwargs):
        def call(*args, **kw):
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return call

    monkeypatch.setattr(torch, "compile", oom_compile)
    model = accelerate(tiny(), compile=True)
    with pytest.raises(RuntimeError, match="out of memory"):
        model.run(clip())
    assert model.module.active  # the tiler splits the tile and retries with the compiled module


def test_compiling_twice_wraps_once() -> None:
    model = accelerate(accelerate(tiny(), compile=True), compile=True)
    assert isinstance(model.module, CompiledOrEager) and not isinstance(model.module.eager, CompiledOrEager)


@pytest.mark.slow
def test_real_compile_matches_eager() -> None:
    model = tiny()
    expected, _ = model.run(clip())
    accelerate(model, compile=True)
    out, _ = model.run(clip())
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_cpu_leaves_cudnn_autotuning_alone(monkeypatch) -> None:
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    accelerate(tiny())
    assert torch.backends.cudnn.benchmark is False


def test_channels_last_spec_flag_converts_weights_and_keeps_results() -> None:
    from dataclasses import replace

    spec = get_spec("tiny.test")
    plain = LoadedModel(spec, build(spec))
    fast = LoadedModel(replace(spec, channels_last=True), build(spec))
    assert fast.module.head.weight.is_contiguous(memory_format=torch.channels_last)
    assert not plain.module.head.weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(fast.run(clip())[0], plain.run(clip())[0], rtol=1e-5, atol=1e-6)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_restore_matches_cpu_and_reports_vram(tmp_path) -> None:
    from tests.helpers import make_video
    from vrestore.api import restore_video
    from vrestore.options import RestoreOptions

    source = make_video(tmp_path / "in.mp4", frames=20, size=(96, 64))
    outputs = {}
    for device in ("cpu", "cuda"):
        options = RestoreOptions(model="tiny.test", device=device, profile=True, encode=_lossless())
        result = restore_video(source, tmp_path / f"{device}.mkv", options)
        outputs[device] = result
    assert outputs["cuda"].frames == 20 and outputs["cuda"].profile["peak_vram_mib"] > 0
    assert outputs["cuda"].sizes["how"] == "measured"
    from vrestore.io.reader import open_reader

    with open_reader(tmp_path / "cpu.mkv") as a, open_reader(tmp_path / "cuda.mkv") as b:
        for x, y in zip(a, b, strict=True):
            assert abs(x.image.astype(int) - y.image.astype(int)).max() <= 1


def _lossless():
    from vrestore.options import EncodeOptions

    return EncodeOptions(codec="ffv1")
