"""The RVRT network: clip-recurrent propagation with guided deformable attention, official parameter names."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from vrestore.models.common.spynet import SpyNet
from vrestore.models.common.warp import flow_warp
from vrestore.models.rvrt.deform_attn import deform_attn
from vrestore.models.rvrt.swin import Mlp, Permute, RSTBWithInputConv

BRANCHES = ("backward_1", "forward_1", "backward_2", "forward_2")
CLIP = 2  # frames per clip (clip_size in the official code)


@dataclass(frozen=True)
class RVRTConfig:
    """Constructor settings that differ between the official tasks."""

    upscale: int = 4
    dim: int = 144
    inputconv_groups: tuple[int, ...] = (1, 1, 1, 1, 1, 1)
    nonblind_denoising: bool = False


SR = RVRTConfig()
DEBLUR = RVRTConfig(upscale=1, dim=192, inputconv_groups=(1, 3, 3, 3, 3, 3))
DENOISE = RVRTConfig(upscale=1, dim=192, inputconv_groups=(1, 3, 4, 6, 8, 4), nonblind_denoising=True)


def _warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``flow_warp`` with zero padding (a channels-first (N, 2, H, W) flow)."""
    return flow_warp(x, flow)


def _linear(inp: int, out: int) -> nn.Sequential:
    """A channel-last Linear applied to (N, T, C, H, W), at index 1 as in the official names."""
    return nn.Sequential(Permute(0, 1, 3, 4, 2), nn.Linear(inp, out), Permute(0, 1, 4, 2, 3))


class GuidedDeformAttention(nn.Module):
    """Aligns the previous clip's features to the current clip (GuidedDeformAttnPack)."""

    def __init__(self, dim: int, heads: int = 12, groups: int = 12, max_residue: float = 10.0) -> None:
        super().__init__()
        self.heads = heads
        self.groups = groups
        self.max_residue = max_residue
        # Registration order follows the official module's, so state-dict key order matches too.
        self.proj_q = _linear(dim, 2 * dim)
        self.proj_k = _linear(dim, 2 * dim)
        self.proj_v = _linear(dim, 2 * dim)
        self.mlp = nn.Sequential(Permute(0, 1, 3, 4, 2), Mlp(dim, 2 * dim), Permute(0, 1, 4, 2, 3))
        offsets = CLIP * groups * 9 * 2
        layers: list[nn.Module] = [nn.Conv3d(dim * (1 + CLIP) + CLIP * 2, 64, 1), nn.LeakyReLU(0.1)]
        for _ in range(4):
            layers += [nn.Conv3d(64, 64, (1, 3, 3), padding=(0, 1, 1)), nn.LeakyReLU(0.1)]
        layers.append(nn.Conv3d(64, offsets, 1))
        self.conv_offset = nn.Sequential(*layers)
        self.proj = _linear(2 * dim, dim)

    def forward(
        self,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        warped: list[torch.Tensor],
        flows: list[torch.Tensor],
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns the aligned features and the two updated clip flows (mean offsets, x then y)."""
        guide = torch.cat([q, *warped, *flows], 2).transpose(1, 2)
        residue = self.max_residue * torch.tanh(self.conv_offset(guide).transpose(1, 2))
        offset1, offset2 = residue.chunk(2, dim=2)
        points = offset1.shape[2] // 2
        offset1 = offset1 + flows[0].flip(2).repeat(1, 1, points, 1, 1)  # flows are (x, y); offsets (dy, dx)
        offset2 = offset2 + flows[1].flip(2).repeat(1, 1, points, 1, 1)
        n, t, _, h, w = offset1.shape
        query = self.proj_q(q).flatten(0, 1)
        kv = torch.cat([self.proj_k(k), self.proj_v(v)], 2)
        offset = torch.cat([offset1, offset2], 2).flatten(0, 1)
        out = deform_attn(query, kv, offset, self.heads, self.groups).view(n, t, -1, h, w)
        out = self.proj(out)
        out = out + self.mlp(out)
        flow1 = offset1.view(n, t, points, 2, h, w).mean(2).flip(2)
        flow2 = offset2.view(n, t, points, 2, h, w).mean(2).flip(2)
        return out, flow1, flow2


class Upsample(nn.Sequential):
    """Two (conv, pixel shuffle x2, LeakyReLU) stages then a conv; per frame of (N, C, T, H, W)."""

    def __init__(self, channels: int = 64) -> None:
        layers: list[nn.Module] = []
        for _ in range(2):
            layers += [
                nn.Conv3d(channels, 4 * channels, (1, 3, 3), padding=(0, 1, 1)),
                Permute(0, 2, 1, 3, 4),
                nn.PixelShuffle(2),
                Permute(0, 2, 1, 3, 4),
                nn.LeakyReLU(0.1),
            ]
        layers.append(nn.Conv3d(channels, channels, (1, 3, 3), padding=(0, 1, 1)))
        super().__init__(*layers)


class RVRT(nn.Module):
    """``forward(x[N,T,3,H,W], sigma=None) -> y[N,T,3,sH,sW]``; ``sigma`` on the 0-255 scale (nonblind
    denoising only, default 30) becomes the constant noise-level channel."""

    def __init__(self, config: RVRTConfig = SR) -> None:
        super().__init__()
        self.config = config
        dim, groups = config.dim, config.inputconv_groups
        self.spynet = SpyNet()
        if config.upscale == 4:
            self.feat_extract = RSTBWithInputConv(3, dim, groups[0], 1, 2, 6, (1, 8, 8))
        else:
            channels = 4 if config.nonblind_denoising else 3
            self.feat_extract = nn.Sequential(
                Permute(0, 2, 1, 3, 4),
                nn.Conv3d(channels, dim, (1, 3, 3), (1, 2, 2), (0, 1, 1)),
                nn.LeakyReLU(0.1),
                nn.Conv3d(dim, dim, (1, 3, 3), (1, 2, 2), (0, 1, 1)),
                nn.LeakyReLU(0.1),
                Permute(0, 2, 1, 3, 4),
                RSTBWithInputConv(dim, dim, groups[0], 1, 2, 6, (1, 8, 8)),
            )
        self.backbone = nn.ModuleDict()
        self.deform_align = nn.ModuleDict()
        for i, name in enumerate(BRANCHES):
            self.deform_align[name] = GuidedDeformAttention(dim)
            self.backbone[name] = RSTBWithInputConv((2 + i) * dim, dim, groups[i + 1], 2, 2, 6, (2, 8, 8))
        self.reconstruction = RSTBWithInputConv(5 * dim, dim, groups[5], 1, 2, 6, (1, 8, 8))
        self.conv_before_upsampler = nn.Sequential(nn.Conv3d(dim, 64, 1), nn.LeakyReLU(0.1))
        self.upsampler = Upsample(64)
        self.conv_last = nn.Conv3d(64, 3, (1, 3, 3), padding=(0, 1, 1))

    def forward(self, x: torch.Tensor, sigma: float | None = None) -> torch.Tensor:
        if x.shape[1] % CLIP:  # the official test pads an odd clip with its last frame, then crops
            return self.forward(torch.cat([x, x[:, -1:]], 1), sigma)[:, :-1]
        n, t, _, h, w = x.shape
        rgb = x[:, :, :3]
        if self.config.nonblind_denoising:
            level = (30.0 if sigma is None else float(sigma)) / 255.0
            x = torch.cat([rgb, torch.full_like(rgb[:, :, :1], level)], 2)
        if self.config.upscale == 4:
            small = rgb
        else:
            small = F.interpolate(rgb.reshape(-1, 3, h, w), scale_factor=0.25, mode="bicubic")
            small = small.view(n, t, 3, h // 4, w // 4)
        feats: dict[str, list[torch.Tensor]] = {"shallow": list(self.feat_extract(x).chunk(t // CLIP, dim=1))}
        first, second = x.chunk(2, dim=1)
        backward, forward = self._flows(small, mirrored=torch.equal(first, second.flip(1)))
        updated: dict[str, list[tuple[torch.Tensor, torch.Tensor]]] = {}
        for name in BRANCHES:
            feats[name] = self._propagate(feats, backward if name.startswith("backward") else forward, name, updated)
        return self._reconstruct(rgb, feats)

    def _flows(self, frames: torch.Tensor, mirrored: bool) -> tuple[torch.Tensor, torch.Tensor]:
        """Backward flows (frame i+1 onto i) and forward flows (i onto i+1), (N, T-1, 2, h, w) each.

        A mirror-extended clip (second half = first half reversed) reuses the backward flows, as upstream.
        """
        n, t, c, h, w = frames.shape
        earlier = frames[:, :-1].reshape(-1, c, h, w)
        later = frames[:, 1:].reshape(-1, c, h, w)
        backward = self.spynet(earlier, later).view(n, t - 1, 2, h, w)
        if mirrored:
            return backward, backward.flip(1)
        return backward, self.spynet(later, earlier).view(n, t - 1, 2, h, w)

    def _propagate(
        self,
        feats: dict[str, list[torch.Tensor]],
        flows: torch.Tensor,
        name: str,
        updated: dict[str, list[tuple[torch.Tensor, torch.Tensor]]],
    ) -> list[torch.Tensor]:
        """One propagation branch over the clips, in its direction; returns per-clip features in time order."""
        steps = flows.shape[1] + 1
        reverse = name.startswith("backward")
        first_pass = name.endswith("_1")
        flow_idx = list(range(steps))[::-1] if reverse else list(range(-1, steps - 1))
        clips = list(range(steps // CLIP))
        if reverse:
            clips = clips[::-1]
        source = list(feats)[-1]  # the branch computed just before this one
        own: list[torch.Tensor] = []
        if first_pass:
            updated[name] = []

        def timed(f: torch.Tensor) -> torch.Tensor:
            return f.flip(1) if reverse else f

        prop = torch.zeros_like(feats["shallow"][0])
        for i, c in enumerate(clips):
            if i > 0:
                if first_pass:
                    f01, f12, f23 = (flows[:, flow_idx[CLIP * i + d]] for d in (-1, 0, 1))
                    f02 = f12 + _warp(f01, f12)
                    f13 = f23 + _warp(f12, f23)
                    f03 = f23 + _warp(f02, f23)
                    flow_n1 = torch.stack([f02, f13], 1)
                    flow_n2 = torch.stack([f12, f03], 1)
                else:
                    flow_n1, flow_n2 = updated[name.replace("_2", "_1")][i - 1]
                q = timed(feats[source][c])
                k = timed(feats[source][clips[i - 1]])
                warped1 = _warp(prop.flatten(0, 1), flow_n1.flatten(0, 1)).view_as(prop)
                warped2 = _warp(prop.flip(1).flatten(0, 1), flow_n2.flatten(0, 1)).view_as(prop)
                prop, new1, new2 = self.deform_align[name](q, k, prop, [warped1, warped2], [flow_n1, flow_n2])
                if first_pass:
                    updated[name].append((new1, new2))
            context = [timed(feats[key][c]) for key in feats] + [prop]
            prop = prop + self.backbone[name](torch.cat(context, dim=2))
            own.append(prop)
        if reverse:
            own = [f.flip(1) for f in own[::-1]]
        return own

    def _reconstruct(self, rgb: torch.Tensor, feats: dict[str, list[torch.Tensor]]) -> torch.Tensor:
        joined = torch.cat([torch.cat(feats[key], 1) for key in ("shallow", *BRANCHES)], dim=2)
        out = self.reconstruction(joined)
        out = self.conv_last(self.upsampler(self.conv_before_upsampler(out.transpose(1, 2)))).transpose(1, 2)
        # The official residual interpolates (C, H, W) trilinearly: channels stay 3, space scales by upscale.
        return out + F.interpolate(rgb, size=out.shape[-3:], mode="trilinear", align_corners=False)
