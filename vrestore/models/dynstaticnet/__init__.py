"""DynStaticNet specs: ``dynstaticnet.official`` (width 48), ``dynstaticnet.official-24`` (width 24), ``.test``.

No official checkpoint can be downloaded by a plain HTTPS GET (it sits on a Quark share page), so the
official ids need ``--weights last.pth``; the width is then read from the checkpoint itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

import torch

from vrestore.models.dynstaticnet.net import DynStaticNet, width_of
from vrestore.models.registry import register
from vrestore.models.seeded import default_init
from vrestore.models.spec import ModelSpec, Temporal

TEST_SEED = 20261123

_COMMON = dict(
    task="weather",
    temporal=Temporal.CLIP,
    clip_length=10,
    temporal_radius=2,
    # Two Haar downsamplings, then 8x8 attention windows at the bottom scale: 32 keeps every scale whole.
    multiple_of=32,
    min_size=32,
)


_LOG = logging.getLogger("vrestore")
_IDS = {48: "dynstaticnet.official", 24: "dynstaticnet.official-24"}


def build_official(state: Mapping[str, torch.Tensor]) -> DynStaticNet:
    """The official architecture at the width found in ``state`` (24 in the paper, 48 in the official config)."""
    if "conv_input.layer.0.weight" not in state:
        return DynStaticNet()  # the strict loader then names the missing keys
    return DynStaticNet(dim=width_of(dict(state)))


def _fit(expected: int) -> Callable[[Mapping[str, torch.Tensor]], DynStaticNet]:
    """``build_official`` that logs a warning when the checkpoint's width is not the id's own."""

    def build(state: Mapping[str, torch.Tensor]) -> DynStaticNet:
        module = build_official(state)
        if module.dim != expected:
            other = _IDS.get(module.dim, f"width {module.dim}")
            _LOG.warning("the checkpoint is DynStaticNet width %d, not %d: running it as %s",
                         module.dim, expected, other)
        return module

    return build


def build_test() -> DynStaticNet:
    """Width 8, two blocks per stage, weights drawn from a fixed seed."""
    return default_init(lambda: DynStaticNet(dim=8, depths=(2, 2, 2), refine_depth=2), TEST_SEED)


OFFICIAL = register(
    ModelSpec(
        id="dynstaticnet.official",
        factory=DynStaticNet,
        description="DynStaticNet rain/snow/haze removal, width 48 (official config); needs --weights last.pth",
        requires_weights=True,
        state_key="state_dict",
        build_for_checkpoint=_fit(48),
        **_COMMON,
    ),
    default=True,
)

OFFICIAL_24 = register(
    ModelSpec(
        id="dynstaticnet.official-24",
        factory=lambda: DynStaticNet(dim=24),
        description="DynStaticNet, width 24 (as in the paper); needs --weights",
        requires_weights=True,
        state_key="state_dict",
        build_for_checkpoint=_fit(24),
        **_COMMON,
    )
)

TEST = register(
    ModelSpec(
        id="dynstaticnet.test",
        factory=build_test,
        description="tiny seeded DynStaticNet for tests (not a real restorer)",
        **_COMMON,
    )
)
