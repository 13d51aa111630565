"""DyNet all-in-one restorer (noise, rain, haze), applied frame by frame.

``dynet.l`` and ``dynet.s`` run one checkpoint at two depths. No official weights are published (the
authors' SharePoint folder and release page are empty), so both need ``--weights`` (a DyNet Lightning
checkpoint, ``net.`` prefix stripped, or one trained with vrestore). ``dynet.test`` is tiny and seeded.
"""

from __future__ import annotations

from functools import partial

from vrestore.models.dynet.network import LARGE, SMALL, DyNet
from vrestore.models.registry import register
from vrestore.models.seeded import fill_seeded
from vrestore.models.spec import ModelSpec, Temporal

TEST_SEED = 20261314
_COMMON = {
    "task": "all-in-one (denoise, derain, dehaze)",
    "temporal": Temporal.NONE,
    "multiple_of": 8,
    "min_size": 8,
    "supports_bfloat16": True,
    "state_key": "state_dict",
}


def tiny_dynet() -> DyNet:
    """DyNet at width 8 with small repeats and seeded weights (not a restorer)."""
    return fill_seeded(DyNet(repeats=(1, 2, 1, 2), dim=8, refinement_blocks=1), TEST_SEED)


DYNET_L = register(
    ModelSpec(
        id="dynet.l",
        factory=partial(DyNet, LARGE),
        description="DyNet-L (weight-shared PromptIR, repeats 4/6/6/8); no public weights: needs --weights",
        requires_weights=True,
        **_COMMON,
    ),
    default=True,
)

DYNET_S = register(
    ModelSpec(
        id="dynet.s",
        factory=partial(DyNet, SMALL),
        description="DyNet-S (same weights as dynet.l, repeats 2/3/3/4); needs --weights",
        requires_weights=True,
        **_COMMON,
    ),
)

DYNET_TEST = register(
    ModelSpec(id="dynet.test", factory=tiny_dynet, description="tiny seeded DyNet for tests (not a restorer)",
              **{**_COMMON, "state_key": None}),
)
