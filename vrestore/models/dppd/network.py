"""The DPPD network: a Restormer U-Net with a DPPD prompt module on the latent and after decoder levels 3, 2."""

from __future__ import annotations

import torch
from torch import nn

from vrestore.models.dppd.prompts import PromptAux, PromptModule
from vrestore.models.promptir.layers import Downsample, PatchEmbed, Upsample, blocks


class DPPD(nn.Module):
    """``forward`` returns the restored image; ``forward_with_aux`` also the prompt modules' reports."""

    def __init__(
        self,
        dim: int = 48,
        num_blocks: tuple[int, int, int, int] = (4, 6, 6, 8),
        refinement_blocks: int = 4,
        heads: tuple[int, int, int, int] = (1, 2, 4, 8),
        prototypes: int = 3,
        tokens: int = 16,
        prompt_dim: int = 64,
        embed_dim: int = 64,
    ) -> None:
        super().__init__()
        d1, d2, d3, d4 = dim, dim * 2, dim * 4, dim * 8
        self.patch_embed = PatchEmbed(3, d1)
        self.encoder_level1 = blocks(d1, heads[0], num_blocks[0])
        self.down1_2 = Downsample(d1)
        self.encoder_level2 = blocks(d2, heads[1], num_blocks[1])
        self.down2_3 = Downsample(d2)
        self.encoder_level3 = blocks(d3, heads[2], num_blocks[2])
        self.down3_4 = Downsample(d3)
        self.latent = blocks(d4, heads[3], num_blocks[3])
        self.prompt3 = PromptModule(d4, prototypes, tokens, prompt_dim, embed_dim, heads[3])
        self.up4_3 = Upsample(d4)
        self.reduce_chan_level3 = nn.Conv2d(d4, d3, 1, bias=False)
        self.decoder_level3 = blocks(d3, heads[2], num_blocks[2])
        self.prompt2 = PromptModule(d3, prototypes, tokens, prompt_dim, embed_dim, heads[2])
        self.up3_2 = Upsample(d3)
        self.reduce_chan_level2 = nn.Conv2d(d3, d2, 1, bias=False)
        self.decoder_level2 = blocks(d2, heads[1], num_blocks[1])
        self.prompt1 = PromptModule(d2, prototypes, tokens, prompt_dim, embed_dim, heads[1])
        self.up2_1 = Upsample(d2)
        self.decoder_level1 = blocks(d2, heads[0], num_blocks[0])
        self.refinement = blocks(d2, heads[0], refinement_blocks)
        self.output = nn.Conv2d(d2, 3, 3, padding=1, bias=False)

    def forward_with_aux(self, x: torch.Tensor) -> tuple[torch.Tensor, list[PromptAux]]:
        enc1 = self.encoder_level1(self.patch_embed(x))
        enc2 = self.encoder_level2(self.down1_2(enc1))
        enc3 = self.encoder_level3(self.down2_3(enc2))
        latent, aux3 = self.prompt3(self.latent(self.down3_4(enc3)))
        dec3 = self.decoder_level3(self.reduce_chan_level3(torch.cat([self.up4_3(latent), enc3], 1)))
        dec3, aux2 = self.prompt2(dec3)
        dec2 = self.decoder_level2(self.reduce_chan_level2(torch.cat([self.up3_2(dec3), enc2], 1)))
        dec2, aux1 = self.prompt1(dec2)
        dec1 = self.decoder_level1(torch.cat([self.up2_1(dec2), enc1], 1))
        return self.output(self.refinement(dec1)) + x, [aux3, aux2, aux1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_with_aux(x)[0]
