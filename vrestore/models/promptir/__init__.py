"""PromptIR all-in-one restorer (noise, rain, haze), applied frame by frame.

``promptir.3task`` loads the official three-task checkpoint (a Lightning file: weights under ``state_dict``
with the ``net.`` prefix, which the loader strips). ``promptir.test`` is a tiny seeded variant for tests.
Channel attention and prompt selection see the whole frame, so whole frames (no tiling) give the results
the model was evaluated with; tiles are only a fallback for memory.
"""

from __future__ import annotations

from vrestore.models.promptir.network import PromptIR
from vrestore.models.registry import register
from vrestore.models.seeded import fill_seeded
from vrestore.models.spec import ModelSpec, Temporal

TEST_SEED = 20261313


def tiny_promptir() -> PromptIR:
    """A one-block-per-level PromptIR at width 8 with seeded weights (not a restorer)."""
    return fill_seeded(PromptIR(dim=8, num_blocks=(1, 1, 1, 1), refinement_blocks=1), TEST_SEED)


PROMPTIR_3TASK = register(
    ModelSpec(
        id="promptir.3task",
        factory=PromptIR,
        task="all-in-one (denoise, derain, dehaze)",
        description="PromptIR (NeurIPS 2023), official three-task weights; per frame, 35.6 M parameters",
        weights="promptir.3task",
        temporal=Temporal.NONE,
        multiple_of=8,
        min_size=8,
        supports_bfloat16=True,
        state_key="state_dict",
    ),
    default=True,
)

PROMPTIR_TEST = register(
    ModelSpec(
        id="promptir.test",
        factory=tiny_promptir,
        task="all-in-one (denoise, derain, dehaze)",
        description="tiny seeded PromptIR for tests (not a restorer)",
        temporal=Temporal.NONE,
        multiple_of=8,
        min_size=8,
        supports_bfloat16=True,
    ),
)
