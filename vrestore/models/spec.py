"""Model capabilities as data: what the engine needs to know to drive a network."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import torch
from torch import nn

from vrestore.errors import UsageError


class Temporal(Enum):
    """How a network consumes time.

    The module's forward signature follows from it (x is float RGB in [0, 1]):

    - ``NONE``:   ``forward(x[N,C,H,W]) -> y[N,C,sH,sW]`` (per-frame image model)
    - ``WINDOW``: ``forward(x[N,2r+1,C,H,W]) -> y[N,C,sH,sW]`` (centre frame out; r = ``temporal_radius``)
    - ``CLIP``:   ``forward(x[N,T,C,H,W]) -> y[N,T,C,sH,sW]``; when ``stateful`` it is
      ``forward(x, state) -> (y, state)`` with ``state=None`` at the start of the video.
    """

    NONE = "none"
    WINDOW = "window"
    CLIP = "clip"


@dataclass(frozen=True)
class ModelSpec:
    """Everything about a registered model except its weights' bytes.

    ``id`` is ``arch.tag``; ``weights`` is a key of weights.toml or None (random or seeded init).
    ``temporal_radius`` is how many neighbouring frames on each side influence an output frame
    within a clip (the engine overlaps windows by at least twice that when it can). ``stateful`` CLIP
    models carry a recurrent state from one window to the next instead of overlapping.

    Checkpoint handling: ``requires_weights`` means the spec has no registered checkpoint and its initial
    weights restore nothing, so a run needs ``--weights`` (a WeightsError otherwise). ``state_key`` is the
    container entry preferred in a user's checkpoint (e.g. BasicSR's "params"). ``build_for_checkpoint``,
    when set, builds the module to fit a given state dict (e.g. infers the width) instead of ``factory``.
    ``extra_defaults`` gives default values for ``extra_inputs`` (e.g. a noise level). ``auto_inputs`` names
    the extra inputs that may be ``"auto"``: estimated from the frames (``vrestore.models.auto_inputs``).

    Speed: ``channels_last`` stores the 4-D weights in that memory format (faster convolutions on tensor
    cores; set it only where a benchmark shows a gain). ``supports_half``/``supports_bfloat16`` allow
    ``--dtype fp16``/``bf16`` (autocast), each checked against fp32 by a PSNR test on a real clip.
    ``auto_bf16`` lets ``--dtype auto`` (the default) run the model in bf16 on CPUs with fast bf16: set it
    only for a model whose trained weights lose at most 0.05 dB in bf16 (benchmarks/cpu_speed.py, section 4;
    tests/engine/test_precision.py).
    ``cpu_window_bytes`` is the host memory a ``vrestore restore`` on the CPU uses per pixel of each frame of
    a temporal window (engine buffers and the network's activations, measured with
    ``benchmarks/cpu_window_memory.py``); with it the CPU windows grow into a share of the RAM
    (``engine.autosize.cpu_clip``); without it they stay at twice the default length.
    ``motion_average``: the network restores motion-averaged frames (``vrestore.filters.motion_average``):
    the engine averages every frame with its aligned neighbours before the network sees it, and training
    averages the degraded samples the same way.
    """

    id: str
    factory: Callable[[], nn.Module]
    task: str
    description: str = ""
    weights: str | None = None
    scale: int = 1
    temporal: Temporal = Temporal.NONE
    clip_length: int | None = None
    temporal_radius: int = 0
    stateful: bool = False
    uses_keyframes: bool = False
    keyframe_interval: int | None = None
    multiple_of: int = 1
    min_size: int = 1
    extra_inputs: tuple[str, ...] = ()
    supports_half: bool = False
    supports_bfloat16: bool = False
    channels_last: bool = False
    auto_bf16: bool = False
    cpu_window_bytes: float | None = None
    motion_average: bool = False
    default_tile: int | None = None
    requires_weights: bool = False
    state_key: str | None = None
    build_for_checkpoint: Callable[[Mapping[str, torch.Tensor]], nn.Module] | None = None
    extra_defaults: tuple[tuple[str, Any], ...] = ()
    auto_inputs: tuple[str, ...] = ()

    def resolve_extra(self, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The extra inputs for a run: ``extra_defaults`` overridden by ``given`` (unknown names refused)."""
        values = dict(self.extra_defaults)
        for name, value in (given or {}).items():
            if name not in self.extra_inputs:
                raise UsageError(f"model {self.id} takes no input '{name}'; see 'vrestore models inspect {self.id}'")
            if isinstance(value, str) and value.lower() == "auto":
                if name not in self.auto_inputs:
                    raise UsageError(f"model {self.id} cannot estimate its input '{name}'; give a value")
                value = "auto"
            values[name] = value
        return values

    @property
    def arch(self) -> str:
        """The architecture part of the id (before the first dot)."""
        return self.id.split(".", 1)[0]

    @property
    def tag(self) -> str:
        """The tag part of the id (after the first dot)."""
        return self.id.split(".", 1)[1]
