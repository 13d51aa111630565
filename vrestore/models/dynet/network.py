"""DyNet (Dudhane et al., arXiv 2404.02154): PromptIR with one shared block per U-Net level, repeated.

Every encoder, latent and decoder level holds a single transformer block applied ``repeats`` times, so the
large and the small model share one state dict and differ only in depth: DyNet-L repeats (4, 6, 6, 8),
DyNet-S (2, 3, 3, 4) (decoder levels reuse the encoder counts). The prompts of levels 2 and 3 act on the
encoder skip features rather than on the decoder outputs as in PromptIR. ``reduce_noise_channel_*`` is
unused, as in the official model. I/O as PromptIR: RGB in [0, 1], H and W divisible by 8, residual output.
"""

from __future__ import annotations

import torch
from torch import nn

from vrestore.models.promptir.layers import (
    Downsample,
    PatchEmbed,
    PromptGenerator,
    TransformerBlock,
    Upsample,
    blocks,
    interact,
)

LARGE = (4, 6, 6, 8)
SMALL = (2, 3, 3, 4)


def repeat(block: nn.Module, x: torch.Tensor, times: int) -> torch.Tensor:
    """Apply one (weight-shared) block ``times`` times."""
    for _ in range(times):
        x = block(x)
    return x


class DyNet(nn.Module):
    """The weight-sharing all-in-one restorer; ``repeats`` picks the depth (L or S) at run time."""

    def __init__(
        self,
        repeats: tuple[int, int, int, int] = LARGE,
        dim: int = 48,
        refinement_blocks: int = 4,
        heads: tuple[int, int, int, int] = (1, 2, 4, 8),
    ) -> None:
        super().__init__()
        self.repeats = tuple(repeats)
        d1, d2, d3, d4 = dim, dim * 2, dim * 4, dim * 8
        self.patch_embed = PatchEmbed(3, d1)
        self.prompt1 = PromptGenerator(64, 5, 64, d2)
        self.prompt2 = PromptGenerator(128, 5, 32, d3)
        self.prompt3 = PromptGenerator(320, 5, 16, d4)
        # Unused in forward; present in the official model's state dict.
        self.reduce_noise_channel_1 = nn.Conv2d(d1 + 64, d1, 1, bias=False)
        self.reduce_noise_channel_2 = nn.Conv2d(d2 + 128, d2, 1, bias=False)
        self.reduce_noise_channel_3 = nn.Conv2d(d3 + 256, d3, 1, bias=False)

        self.encoder_level1 = TransformerBlock(d1, heads[0])
        self.down1_2 = Downsample(d1)
        self.encoder_level2 = TransformerBlock(d2, heads[1])
        self.down2_3 = Downsample(d2)
        self.encoder_level3 = TransformerBlock(d3, heads[2])
        self.down3_4 = Downsample(d3)
        self.latent = TransformerBlock(d4, heads[3])

        self.up4_3 = Upsample(d3)
        self.reduce_chan_level3 = nn.Conv2d(d2 + d3, d3, 1, bias=False)
        self.noise_level3 = TransformerBlock(d4 + 320, heads[2])
        self.reduce_noise_level3 = nn.Conv2d(d4 + 320, d3, 1, bias=False)
        self.decoder_level3 = TransformerBlock(d3, heads[2])

        self.up3_2 = Upsample(d3)
        self.reduce_chan_level2 = nn.Conv2d(d3, d2, 1, bias=False)
        self.noise_level2 = TransformerBlock(d3 + 128, heads[2])
        self.reduce_noise_level2 = nn.Conv2d(d3 + 128, d3, 1, bias=False)
        self.decoder_level2 = TransformerBlock(d2, heads[1])

        self.up2_1 = Upsample(d2)
        self.noise_level1 = TransformerBlock(d2 + 64, heads[2])
        self.reduce_noise_level1 = nn.Conv2d(d2 + 64, d2, 1, bias=False)
        self.decoder_level1 = TransformerBlock(d2, heads[0])
        self.refinement = blocks(d2, heads[0], refinement_blocks)
        self.output = nn.Conv2d(d2, 3, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n1, n2, n3, n4 = self.repeats
        enc1 = repeat(self.encoder_level1, self.patch_embed(x), n1)
        enc2 = repeat(self.encoder_level2, self.down1_2(enc1), n2)
        enc3 = repeat(self.encoder_level3, self.down2_3(enc2), n3)
        latent = repeat(self.latent, self.down3_4(enc3), n4)
        latent = interact(latent, self.prompt3(latent), self.noise_level3, self.reduce_noise_level3)
        enc3 = interact(enc3, self.prompt2(enc3), self.noise_level2, self.reduce_noise_level2)

        dec3 = self.reduce_chan_level3(torch.cat([self.up4_3(latent), enc3], 1))
        dec3 = repeat(self.decoder_level3, dec3, n3)
        enc2 = interact(enc2, self.prompt1(enc2), self.noise_level1, self.reduce_noise_level1)

        dec2 = self.reduce_chan_level2(torch.cat([self.up3_2(dec3), enc2], 1))
        dec2 = repeat(self.decoder_level2, dec2, n2)
        dec1 = repeat(self.decoder_level1, torch.cat([self.up2_1(dec2), enc1], 1), n1)
        return self.output(self.refinement(dec1)) + x
