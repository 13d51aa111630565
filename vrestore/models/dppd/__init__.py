"""DPPD-style all-in-one restorer: PromptIR's backbone with dynamic, prototype-anchored prompts.

"Learning Dynamic Prompts for All-in-One Image Restoration" (Wu et al., IEEE TIP 2025). The official
repository (Aitical/DPPD) holds no code, so this is our reading of the README and the framework figure,
labelled "DPPD-style". Decisions the paper leaves open, as made here:

- Backbone: Restormer U-Net at PromptIR's widths; prompt modules where PromptIR has its three prompt
  sites (latent, after decoder levels 3 and 2). Without PromptIR's 1x1 channel reductions the latent keeps
  384 channels, so the decoder is Restormer's (upsampling from 384).
- Degradation Prototype Assignment: global average pool -> 2-layer MLP (GELU) -> 64-d unit embedding;
  K learned prototypes (K = 3 for noise/rain/haze); cosine similarity / 0.1 are the logits; the nearest
  prototype (argmax) is assigned, hard, in training and inference, so each prototype's prompts stay its own.
- Prompt Distribution Learning: each prototype owns a diagonal Gaussian over 16 prompt tokens of width 64
  (learned mean and log-variance, not predicted from the input). Training draws prompts with the
  reparameterisation trick; inference uses the mean, so outputs are deterministic.
- Cross fusion: pixels (LayerNorm'd, 1x1 query) attend to the prompt tokens (linear keys and values),
  multi-head with the level's head count, 1x1 output, added residually.
- Losses (dppd/loss.py): L1 + 0.1 x cross-entropy of each site's assignment logits against the degradation
  label + 1e-3 x KL(N(mu, sigma^2) || N(0, I)) so that the variances do not collapse.

No weights exist (``dppd.test`` is tiny and seeded); train with a recipe that provides degradation labels.
"""

from __future__ import annotations

from vrestore.models.dppd.network import DPPD
from vrestore.models.registry import register
from vrestore.models.seeded import fill_seeded
from vrestore.models.spec import ModelSpec, Temporal

TEST_SEED = 20261315


def tiny_dppd() -> DPPD:
    """DPPD at width 8, one block per level, 8 prompt tokens of width 16, seeded (not a restorer)."""
    net = DPPD(dim=8, num_blocks=(1, 1, 1, 1), refinement_blocks=1, tokens=8, prompt_dim=16, embed_dim=16)
    return fill_seeded(net, TEST_SEED)


DPPD_TEST = register(
    ModelSpec(
        id="dppd.test",
        factory=tiny_dppd,
        task="all-in-one (denoise, derain, dehaze)",
        description="tiny seeded DPPD-style PromptIR (prototype-anchored prompt distributions), for tests",
        temporal=Temporal.NONE,
        multiple_of=8,
        min_size=8,
        supports_bfloat16=True,
    ),
    default=True,
)
