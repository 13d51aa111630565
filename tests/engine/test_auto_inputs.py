"""``--sigma auto``: the engine estimates a model's ``auto`` inputs per temporal window and passes them on."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import torch
from torch import nn

from vrestore.engine.runner import restore_frames
from vrestore.errors import UsageError
from vrestore.frame import Frame
from vrestore.inputs_report import InputsLog
from vrestore.models.loaded import LoadedModel
from vrestore.models.spec import ModelSpec, Temporal
from vrestore.options import ClipOptions, TileOptions


class SigmaRecorder(nn.Module):
    """A CLIP identity that records the noise level of each call."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[float] = []

    def forward(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        self.seen.append(float(sigma))
        return x


def sigma_model(sigma: object = None) -> tuple[LoadedModel, SigmaRecorder]:
    module = SigmaRecorder()
    spec = ModelSpec(id="toy.sigma", factory=lambda: module, task="denoise", temporal=Temporal.CLIP, clip_length=8,
                     extra_inputs=("sigma",), extra_defaults=(("sigma", "auto"),), auto_inputs=("sigma",))
    extra = spec.resolve_extra(None if sigma is None else {"sigma": sigma})
    return LoadedModel(spec, module, extra=extra), module


def noisy_frames(levels: list[float], h: int = 96, w: int = 128) -> list[Frame]:
    """Smooth gradient frames with Gaussian noise of the given level each (uint8)."""
    y, x = np.mgrid[0:h, 0:w]
    base = (60 + 100 * x / w + 30 * y / h)[:, :, None].repeat(3, axis=2)
    frames = []
    for i, level in enumerate(levels):
        noisy = base + np.random.default_rng(i).normal(0, level, base.shape)
        image = np.clip(noisy.round(), 0, 255).astype(np.uint8)
        frames.append(Frame(image, pts=i, time_base=Fraction(1, 25), index=i))
    return frames


def test_each_window_gets_its_own_estimate():
    model, module = sigma_model()
    frames = noisy_frames([5.0] * 8 + [30.0] * 8)
    log = InputsLog()
    out = list(restore_frames(frames, model, TileOptions(size=0), ClipOptions(length=8, overlap=0), on_inputs=log))
    assert len(out) == 16
    assert [stop for _, stop, _ in log.windows] == [8, 16] and [first for first, _, _ in log.windows] == [0, 8]
    first, second = (values["sigma"] for _, _, values in log.windows)
    assert abs(first - 5) <= 1.5 and abs(second - 30) <= 4.5
    assert module.seen == [first, second]  # the model ran with exactly the reported values
    report = log.report(model.extra)["sigma"]
    assert report == {"auto": True, "per_window": [{"frames": [0, 8], "sigma": first},
                                                   {"frames": [8, 16], "sigma": second}]}


def test_a_given_level_is_used_as_is():
    model, module = sigma_model(20.0)
    log = InputsLog()
    list(restore_frames(noisy_frames([5.0] * 8), model, TileOptions(size=0), ClipOptions(length=8, overlap=0),
                        on_inputs=log))
    assert module.seen == [20.0] and log.windows == []
    assert log.report(model.extra) == {"sigma": {"auto": False, "value": 20.0}}


def test_direct_run_estimates_from_the_clip():
    model, module = sigma_model("AUTO")
    clip = torch.from_numpy(np.stack([f.image for f in noisy_frames([12.0] * 3)])).permute(0, 3, 1, 2)[None] / 255
    model.run(clip.float())
    assert abs(module.seen[0] - 12) <= 1.8


def test_auto_only_where_the_spec_allows_it():
    spec = ModelSpec(id="toy.fixed", factory=nn.Identity, task="denoise", extra_inputs=("sigma",))
    with pytest.raises(UsageError, match="cannot estimate"):
        spec.resolve_extra({"sigma": "auto"})
