"""LoadedModel: a module plus its spec, placed on a device, with one calling convention for the engine."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from vrestore.errors import DeviceError, UsageError
from vrestore.models.auto_inputs import auto_names, estimate_inputs
from vrestore.models.spec import ModelSpec, Temporal

if TYPE_CHECKING:
    from vrestore.weights.load import WeightsUsed

_DTYPES = {"fp32": torch.float32, "fp16": torch.float16, "bf16": torch.bfloat16}


def resolve_device(name: str) -> torch.device:
    """``auto`` -> cuda when present, else cpu; ``cuda[:n]`` must exist (DeviceError otherwise)."""
    name = name.strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise UsageError(f"unknown device '{name}'; use auto, cpu, cuda or cuda:N") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"--device {name} was requested but CUDA is not available; use --device cpu")
        index = device.index or 0
        if index >= torch.cuda.device_count():
            raise DeviceError(
                f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) present; pick another index"
            )
    elif device.type not in ("cpu", "mps"):
        raise UsageError(f"unsupported device '{name}'; use auto, cpu, cuda or cuda:N")
    return device


def cpu_has_fast_bf16() -> bool:
    """True when this CPU has bf16 dot-product instructions (AVX512-BF16 or AMX).

    There oneDNN runs bf16 convolutions about twice as fast as fp32; elsewhere bf16 is emulated and slower.
    """
    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        check = getattr(cpu, probe, None)
        try:
            if check is not None and check():
                return True
        except Exception:  # noqa: BLE001  (a private probe of another torch version: treat as absent)
            continue
    return False


def auto_dtype(spec: ModelSpec, device: torch.device) -> torch.dtype:
    """What ``--dtype auto`` picks: bf16 on a CPU with fast bf16 for a model verified in bf16, else fp32.

    Verified means ``spec.auto_bf16``: its bf16 output was measured within 0.05 dB PSNR of fp32 against a
    clean reference on a real clip (benchmarks/cpu_speed.py, section 4; tests/engine/test_precision.py).
    On CUDA auto keeps fp32 (not measured there).
    """
    if device.type == "cpu" and spec.auto_bf16 and spec.supports_bfloat16 and cpu_has_fast_bf16():
        return torch.bfloat16
    return torch.float32


def resolve_dtype(name: str, spec: ModelSpec, device: torch.device) -> torch.dtype:
    """The compute dtype for ``name`` (auto|fp32|fp16|bf16), checked against the model's capabilities."""
    key = name.strip().lower()
    if key == "auto":
        return auto_dtype(spec, device)
    if key not in _DTYPES:
        raise UsageError(f"unknown dtype '{name}'; use auto, fp32, fp16 or bf16")
    dtype = _DTYPES[key]
    if dtype is torch.float16 and not spec.supports_half:
        raise UsageError(f"model {spec.id} does not support fp16; use --dtype fp32")
    if dtype is torch.bfloat16 and not spec.supports_bfloat16:
        raise UsageError(f"model {spec.id} does not support bf16; use --dtype fp32")
    if dtype is torch.float16 and device.type == "cpu":
        raise UsageError("fp16 needs a GPU; use --dtype fp32 or bf16 on the CPU")
    return dtype


def dtype_name(dtype: torch.dtype) -> str:
    """The option spelling of a compute dtype: fp32, fp16 or bf16."""
    return next(name for name, value in _DTYPES.items() if value == dtype)


class LoadedModel:
    """A ready-to-run model: ``run(clip, state)`` maps ``(B,T,C,H,W)`` float in [0,1] to the restored clip.

    The input is expected on ``self.device`` (any float dtype); the output is float32 on the same device.
    ``state`` is only meaningful for stateful CLIP models and is None for the others. ``dtype`` is the
    compute precision: the weights stay float32 and fp16/bf16 run under ``torch.autocast``, so that the
    precision-sensitive parts (residual additions, normalisations, reductions) keep float32. Specs with
    ``channels_last`` get their 4-D weights in that memory format. ``weights`` records which checkpoint the
    module holds (for reports; None when the caller built the module itself).
    """

    def __init__(
        self,
        spec: ModelSpec,
        module: nn.Module,
        device: torch.device | str = "cpu",
        dtype: torch.dtype = torch.float32,
        extra: dict[str, Any] | None = None,
        weights: WeightsUsed | None = None,
    ) -> None:
        self.spec = spec
        self.weights = weights
        self.device = torch.device(device)
        self.dtype = dtype
        self.extra = dict(extra or {})
        missing = [name for name in spec.extra_inputs if name not in self.extra]
        if missing:
            raise UsageError(f"model {spec.id} needs {', '.join(missing)}; pass it as an option")
        self.module = module.eval().to(device=self.device, dtype=torch.float32)
        if spec.channels_last:
            self.module = self.module.to(memory_format=torch.channels_last)
        for param in self.module.parameters():
            param.requires_grad_(False)

    @property
    def scale(self) -> int:
        """Spatial upscaling factor."""
        return self.spec.scale

    @torch.inference_mode()
    def run(
        self, clip: torch.Tensor, state: Any = None, inputs: Mapping[str, Any] | None = None
    ) -> tuple[torch.Tensor, Any]:
        """Restore ``clip`` (B,T,C,H,W); returns (output B,T,C,sH,sW float32, new state).

        ``inputs`` override the extra inputs for this call (the engine's per-window estimates); inputs still
        ``"auto"`` are estimated from ``clip`` itself.
        """
        if clip.ndim != 5:
            raise ValueError(f"expected a (B,T,C,H,W) clip, got shape {tuple(clip.shape)}")
        extra = {**self.extra, **(inputs or {})}
        if auto_names(extra):
            frames = clip[0].detach().float().permute(0, 2, 3, 1).cpu().numpy()
            extra.update(estimate_inputs(extra, list(frames), peak=1.0))
        x = clip.to(device=self.device, dtype=torch.float32)
        with torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype != torch.float32):
            out, new_state = forward_clip(self.spec, self.module, x, extra, state)
        return out.float(), new_state


def forward_clip(
    spec: ModelSpec, module: nn.Module, x: torch.Tensor, extra: dict[str, Any] | None = None, state: Any = None
) -> tuple[torch.Tensor, Any]:
    """Call ``module`` on a (B,T,C,H,W) clip with the convention of ``spec.temporal``; returns (B,T,C,sH,sW), state.

    Shared by inference (:class:`LoadedModel`) and training, so both call a network the same way.
    """
    extra = extra or {}
    if spec.temporal is Temporal.NONE:
        b, t = x.shape[:2]
        return module(x.flatten(0, 1), **extra).unflatten(0, (b, t)), None
    if spec.temporal is Temporal.WINDOW:
        return _run_windows(module, x, spec.temporal_radius, extra), None
    if spec.stateful:
        return module(x, state, **extra)
    return module(x, **extra), None


def _run_windows(module: nn.Module, x: torch.Tensor, radius: int, extra: dict[str, Any]) -> torch.Tensor:
    """Slide a (2r+1)-frame window over the clip; clip ends are padded by repeating the edge frames."""
    t = x.shape[1]
    index = torch.arange(-radius, t + radius, device=x.device).clamp_(0, t - 1)
    padded = x[:, index]
    outs = [module(padded[:, i : i + 2 * radius + 1], **extra) for i in range(t)]
    return torch.stack(outs, dim=1)
