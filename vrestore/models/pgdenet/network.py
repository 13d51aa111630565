"""PGDENet (Prompt-Guided Dynamic Expert Network): all-in-one video restoration for time-varying degradations.

Built on AverNet's recurrent skeleton: features at 1/4 resolution, SPyNet flow on the 1/4-size frames,
four propagation branches (backward, forward, backward, forward), each aligning its hidden state with
prompt-guided deformable alignment (PGDA) and fusing key-frame features (a DPEM prompt modulation of the
key frame, every ``keyframe_interval`` frames and at the last frame), then a pixel-shuffle reconstruction with
a global residual on the input. Parameter names and shapes follow the official ``PGENet`` class, so its
checkpoints load strictly. Input: (N,T,3,H,W) RGB in [0,1] with H, W multiples of 4 and at least 132 (SPyNet
needs more than 32 pixels at 1/4 size; the official code asserts 256, the size it was trained at, which the
registered specs ask the engine to pad to).

The forward pass reports its progress (``vrestore.models.progress``) after each chunk of feature extraction
and flow, each propagation step and each reconstructed frame, so that a long window moves a progress bar
long before it returns. Features and flows are computed in chunks of ``CHUNK`` frames for that (on the CPU
the result is bit-identical to one batch; it also bounds their peak memory on long clips).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from vrestore.models.common.blocks import PixelShuffleUp, ResidualStack
from vrestore.models.common.deform import ModulatedDeformConv
from vrestore.models.common.spynet import SpyNet
from vrestore.models.common.warp import flow_warp
from vrestore.models.pgdenet.experts import PromptModulator
from vrestore.models.progress import WorkMeter

BRANCHES = ("backward_1", "forward_1", "backward_2", "forward_2")
MIN_SIZE = 132
CHUNK = 4  # frames per batch of feature extraction and of flow estimation
# Relative cost per frame of each stage (CPU, 640x360, pgdenet.tud: about 0.1 s per unit), for progress only.
_UNITS_FEATURES, _UNITS_FLOW, _UNITS_STEP, _UNITS_OUTPUT = 1.0, 2.0, 3.0, 15.0


class PromptGuidedAlignment(ModulatedDeformConv):
    """PGDA: deformable conv on the previous (un-warped) hidden state, offsets = flow + bounded residual
    predicted from the warped state, the current features and their DPEM-modulated projection."""

    def __init__(self, channels: int, prompt_size: int, deform_groups: int, max_residue: float) -> None:
        super().__init__(channels, channels, 3, padding=1, deform_groups=deform_groups)
        self.max_residue = max_residue
        self.proj = nn.Conv2d(2 * channels, channels, 3, padding=1)
        self.DPEM_align = PromptModulator(channels, prompt_size)
        self.fusion = nn.Conv2d(3 * channels, 2 * channels, 3, padding=1)
        taps = 3 * 9 * deform_groups  # (dy, dx, mask) per tap and group
        self.conv_offset = nn.Sequential(
            nn.Conv2d(2 * channels + 2, channels, 3, padding=1), nn.LeakyReLU(0.1),
            nn.Conv2d(channels, channels, 3, padding=1), nn.LeakyReLU(0.1),
            nn.Conv2d(channels, channels, 3, padding=1), nn.LeakyReLU(0.1),
            nn.Conv2d(channels, taps, 3, padding=1),
        )
        nn.init.zeros_(self.conv_offset[-1].weight)
        nn.init.zeros_(self.conv_offset[-1].bias)

    def forward(self, previous: torch.Tensor, cond: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        modulated = self.DPEM_align(self.proj(cond))
        fused = self.fusion(torch.cat([modulated, cond], dim=1))
        # The flow joins in the features' dtype: the convolution would cast the whole concatenation to it anyway.
        out = self.conv_offset(torch.cat([fused, flow.to(fused.dtype)], dim=1))
        n, _, _, w = out.shape
        pairs = 2 * out.shape[1] // 3  # (dy, dx) per tap and group, then the mask

        def offsets_of(top: int, bottom: int) -> tuple[torch.Tensor, torch.Tensor]:
            # offset = flow + max_residue * tanh(o), the flow (x, y) broadcast to every (dy, dx) pair, in the
            # flow's precision. tanh(o) = 2 sigmoid(2o) - 1: the CPU's tanh is ten times slower than its sigmoid.
            rows = out[:, :, top:bottom]
            squashed = torch.sigmoid(rows[:, :pairs].to(flow.dtype) * 2.0).view(n, pairs // 2, 2, bottom - top, w)
            base = flow[:, :, top:bottom].flip(1).view(n, 1, 2, bottom - top, w) - self.max_residue
            offset = torch.add(base, squashed, alpha=2.0 * self.max_residue)
            return offset.view(n, pairs, bottom - top, w), torch.sigmoid(rows[:, pairs:])

        return self.deform_rows(previous, offsets_of)


class PGDENet(nn.Module):
    """The network; the defaults are the official (paper) configuration, 39.85 M parameters.

    ``prompt_size`` is the key-frame prompt pool's size and ``align_prompt_size`` the alignment modules' (the
    official class leaves the latter at its default, 96, whatever ``prompt_size`` is).
    """

    def __init__(self, mid_channels: int = 96, num_blocks: int = 7, prompt_size: int = 96,
                 keyframe_interval: int = 6, deform_groups: int = 24, max_residue: float = 10.0,
                 align_prompt_size: int = 96) -> None:
        super().__init__()
        c = mid_channels
        self.mid_channels = c
        self.keyframe_interval = keyframe_interval
        self.spynet = SpyNet()
        self.feat_extract = nn.Sequential(
            nn.Conv2d(3, c, 3, 2, 1), nn.LeakyReLU(0.1),
            nn.Conv2d(c, c, 3, 2, 1), nn.LeakyReLU(0.1),
            ResidualStack(c, c, 5),
        )
        self.DPEM_prop = PromptModulator(c, prompt_size)
        self.key_fusion = nn.Conv2d(2 * c, c, 3, padding=1)
        self.deform_align = nn.ModuleDict(
            {b: PromptGuidedAlignment(c, align_prompt_size, deform_groups, max_residue) for b in BRANCHES})
        self.backbone = nn.ModuleDict({b: ResidualStack((2 + i) * c, c, num_blocks) for i, b in enumerate(BRANCHES)})
        self.reconstruction = ResidualStack(5 * c, c, 5)
        self.upsample1 = PixelShuffleUp(c, c, 2)
        self.upsample2 = PixelShuffleUp(c, 64, 2)
        self.conv_hr = nn.Conv2d(64, 64, 3, padding=1)
        self.conv_last = nn.Conv2d(64, 3, 3, padding=1)

    def keyframes(self, t: int) -> list[int]:
        """Key-frame indices of a t-frame clip: every ``keyframe_interval`` frames, and the last frame."""
        keys = list(range(0, t, self.keyframe_interval))
        return keys if keys[-1] == t - 1 else [*keys, t - 1]

    def forward(self, lqs: torch.Tensor) -> torch.Tensor:
        n, t, c, h, w = lqs.shape
        if h % 4 or w % 4 or h < MIN_SIZE or w < MIN_SIZE:
            raise ValueError(f"PGDENet needs frames of at least {MIN_SIZE}x{MIN_SIZE} with sides divisible by 4, "
                             f"got {w}x{h}")
        per_frame = _UNITS_FEATURES + 2 * _UNITS_FLOW + len(BRANCHES) * _UNITS_STEP + _UNITS_OUTPUT
        meter = WorkMeter(n * t * per_frame)
        frames = lqs.reshape(n * t, c, h, w)
        small = F.interpolate(frames, scale_factor=0.25, mode="bicubic").view(n, t, c, h // 4, w // 4)
        features = []
        for first in range(0, n * t, CHUNK):
            features.append(self.feat_extract(frames[first : first + CHUNK]))
            meter.add(_UNITS_FEATURES * features[-1].shape[0])
        spatial = list(torch.cat(features).view(n, t, self.mid_channels, h // 4, w // 4).unbind(1))
        flows_backward, flows_forward = self._flows(small, meter)
        keys = self.keyframes(t)
        key_feats = {i: self.DPEM_prop(spatial[i]) for i in keys}

        branches: dict[str, list[torch.Tensor]] = {}
        for name in BRANCHES:
            backward = name.startswith("backward")
            order = range(t - 1, -1, -1) if backward else range(t)
            outputs: dict[int, torch.Tensor] = {}
            state = lqs.new_zeros(n, self.mid_channels, h // 4, w // 4)
            for step, idx in enumerate(order):
                x = spatial[idx]
                if step > 0:
                    flow = flows_backward[:, idx] if backward else flows_forward[:, idx - 1]
                    # grid_sample runs in fp32 under autocast; the concatenation feeds convolutions that take x's dtype.
                    cond = torch.cat([flow_warp(state, flow).to(x.dtype), x], dim=1)
                    state = self.deform_align[name](state, cond, flow)
                if idx in key_feats:
                    state = self.key_fusion(torch.cat([state, key_feats[idx]], dim=1))
                earlier = [branches[b][idx] for b in branches]
                state = state + self.backbone[name](torch.cat([x, *earlier, state], dim=1))
                outputs[idx] = state
                meter.add(n * _UNITS_STEP)
            branches[name] = [outputs[i] for i in range(t)]

        out = []
        for i in range(t):
            feat = self.reconstruction(torch.cat([spatial[i], *(branches[b][i] for b in BRANCHES)], dim=1))
            feat = F.leaky_relu(self.upsample1(feat), 0.1, inplace=True)
            feat = F.leaky_relu(self.upsample2(feat), 0.1, inplace=True)
            feat = F.leaky_relu(self.conv_hr(feat), 0.1, inplace=True)
            out.append(self.conv_last(feat) + lqs[:, i])
            meter.add(n * _UNITS_OUTPUT)
        return torch.stack(out, dim=1)

    def _flows(self, small: torch.Tensor, meter: WorkMeter) -> tuple[torch.Tensor, torch.Tensor]:
        """(backward, forward) flows between neighbours, each (N,T-1,2,h,w): backward[i] maps frame i+1 onto
        frame i, forward[i] frame i onto frame i+1."""
        n, t, c, h, w = small.shape
        if t == 1:
            meter.add(2 * _UNITS_FLOW * n)
            empty = small.new_zeros(n, 0, 2, h, w)
            return empty, empty
        a = small[:, :-1].reshape(-1, c, h, w)
        b = small[:, 1:].reshape(-1, c, h, w)
        backward, forward = [], []
        for first in range(0, a.shape[0], CHUNK):
            part_a, part_b = a[first : first + CHUNK], b[first : first + CHUNK]
            backward.append(self.spynet(part_a, part_b))
            forward.append(self.spynet(part_b, part_a))
            # n * (t - 1) pairs stand for the n * t frames' flow units.
            meter.add(2 * _UNITS_FLOW * part_a.shape[0] * t / (t - 1))
        return torch.cat(backward).view(n, t - 1, 2, h, w), torch.cat(forward).view(n, t - 1, 2, h, w)
