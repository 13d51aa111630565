"""PromptIR (Potlapalli et al., NeurIPS 2023): a Restormer U-Net with prompt blocks in the decoder.

Input and output are RGB ``[N, 3, H, W]`` in [0, 1] with H and W divisible by 8 (three 2x downsamplings);
the output is the input plus a learned residual, not clamped. Widths 48/96/192/384, blocks [4, 6, 6, 8]
plus 4 refinement blocks. A prompt generator and interaction block sit on the latent and after decoder
levels 3 and 2. ``chnl_reduce*`` and ``reduce_noise_channel_*`` are defined but unused, as in the official
model, so that its checkpoint loads strictly.
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


class PromptIR(nn.Module):
    """The all-in-one restorer; ``dim`` and ``num_blocks`` shrink it for tests (prompt widths are fixed)."""

    def __init__(
        self,
        dim: int = 48,
        num_blocks: tuple[int, int, int, int] = (4, 6, 6, 8),
        refinement_blocks: int = 4,
        heads: tuple[int, int, int, int] = (1, 2, 4, 8),
    ) -> None:
        super().__init__()
        d1, d2, d3, d4 = dim, dim * 2, dim * 4, dim * 8
        self.patch_embed = PatchEmbed(3, d1)
        self.prompt1 = PromptGenerator(64, 5, 64, d2)
        self.prompt2 = PromptGenerator(128, 5, 32, d3)
        self.prompt3 = PromptGenerator(320, 5, 16, d4)
        # Unused in forward; present in the official checkpoint.
        self.chnl_reduce1 = nn.Conv2d(64, 64, 1, bias=False)
        self.chnl_reduce2 = nn.Conv2d(128, 128, 1, bias=False)
        self.chnl_reduce3 = nn.Conv2d(320, 256, 1, bias=False)
        self.reduce_noise_channel_1 = nn.Conv2d(d1 + 64, d1, 1, bias=False)
        self.reduce_noise_channel_2 = nn.Conv2d(d2 + 128, d2, 1, bias=False)
        self.reduce_noise_channel_3 = nn.Conv2d(d3 + 256, d3, 1, bias=False)

        self.encoder_level1 = blocks(d1, heads[0], num_blocks[0])
        self.down1_2 = Downsample(d1)
        self.encoder_level2 = blocks(d2, heads[1], num_blocks[1])
        self.down2_3 = Downsample(d2)
        self.encoder_level3 = blocks(d3, heads[2], num_blocks[2])
        self.down3_4 = Downsample(d3)
        self.latent = blocks(d4, heads[3], num_blocks[3])

        self.noise_level3 = TransformerBlock(d4 + 320, heads[2])
        self.reduce_noise_level3 = nn.Conv2d(d4 + 320, d3, 1, bias=False)
        self.up4_3 = Upsample(d3)
        self.reduce_chan_level3 = nn.Conv2d(d2 + d3, d3, 1, bias=False)
        self.decoder_level3 = blocks(d3, heads[2], num_blocks[2])

        self.noise_level2 = TransformerBlock(d3 + 128, heads[2])
        self.reduce_noise_level2 = nn.Conv2d(d3 + 128, d3, 1, bias=False)
        self.up3_2 = Upsample(d3)
        self.reduce_chan_level2 = nn.Conv2d(d3, d2, 1, bias=False)
        self.decoder_level2 = blocks(d2, heads[1], num_blocks[1])

        self.noise_level1 = TransformerBlock(d2 + 64, heads[2])
        self.reduce_noise_level1 = nn.Conv2d(d2 + 64, d2, 1, bias=False)
        self.up2_1 = Upsample(d2)
        self.decoder_level1 = blocks(d2, heads[0], num_blocks[0])
        self.refinement = blocks(d2, heads[0], refinement_blocks)
        self.output = nn.Conv2d(d2, 3, 3, padding=1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        enc1 = self.encoder_level1(self.patch_embed(x))
        enc2 = self.encoder_level2(self.down1_2(enc1))
        enc3 = self.encoder_level3(self.down2_3(enc2))
        latent = self.latent(self.down3_4(enc3))
        latent = interact(latent, self.prompt3(latent), self.noise_level3, self.reduce_noise_level3)

        dec3 = self.reduce_chan_level3(torch.cat([self.up4_3(latent), enc3], 1))
        dec3 = self.decoder_level3(dec3)
        dec3 = interact(dec3, self.prompt2(dec3), self.noise_level2, self.reduce_noise_level2)

        dec2 = self.reduce_chan_level2(torch.cat([self.up3_2(dec3), enc2], 1))
        dec2 = self.decoder_level2(dec2)
        dec2 = interact(dec2, self.prompt1(dec2), self.noise_level1, self.reduce_noise_level1)

        dec1 = self.decoder_level1(torch.cat([self.up2_1(dec2), enc1], 1))
        return self.output(self.refinement(dec1)) + x
