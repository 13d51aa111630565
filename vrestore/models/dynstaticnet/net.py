"""DynStaticNet: a spatial/temporal dual-branch video transformer for rain, snow and haze removal.

Written from the paper and from reading the official code (zqx1216155858/DynstaticNet, MMEditing-based).
Parameter names match the official checkpoint. Quirks of the official forward that change outputs are kept
on purpose (see ``Attention3D`` and ``DynStaticBlock``): raw memory reshapes in the attention, the cyclic
shift that is never rolled back, the normalised input added as an inner skip, and LeakyReLU on the output.

The decoder blocks replace the attention query by a projection of fresh Gaussian noise (the "task-adaptive
degradation query"). The official code draws it from the global RNG on every forward; here the network
draws it from a generator seeded at the start of each forward (``deterministic=True``), in the same order
and shapes as the official code, so seed s reproduces the official output after ``torch.manual_seed(s)``
(on the CPU; CUDA generators give other, equally deterministic, numbers).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

WINDOW = 8
SHIFT = WINDOW // 2
QUERY_TOKENS = 128  # rows of the official random query, nearest-resized to the window's token count


class QueryNoise:
    """The source of the decoder's random queries for one forward pass."""

    def __init__(self, generator: torch.Generator | None) -> None:
        self.generator = generator

    def draw(self, shape: tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        """Standard normal noise of ``shape`` on ``like``'s device and dtype (every call advances the stream)."""
        noise = torch.randn(shape, generator=self.generator, device=like.device)
        return noise.to(like.dtype)


class Embeddings(nn.Module):
    """3x3 convolution + LeakyReLU(0.2), per frame (used at the input and, as in the official code, the output)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.layer = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape[:2]
        return self.layer(x.flatten(0, 1)).unflatten(0, (b, t))


class _Wrapped(nn.Module):
    """Holds one convolution under ``.conv`` (the official key layout of the difference convolutions)."""

    def __init__(self, conv: nn.Module) -> None:
        super().__init__()
        self.conv = conv


class _Pointwise(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        self.pointwise = nn.Conv2d(dim, dim, 1)


class GradientConv(nn.Module):
    """The paper's multi-gradient attention convolution (official name ``DSEConv``), on (N, C, H, W).

    Four depthwise 3x3 kernels (central, horizontal and vertical difference, plain) are folded into one.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim
        self.conv1_1 = _Wrapped(nn.Conv2d(dim, dim, 3, padding=1, groups=dim))
        self.conv1_2 = _Wrapped(nn.Conv1d(dim, dim, 3, padding=1, groups=dim))
        self.conv1_3 = _Wrapped(nn.Conv1d(dim, dim, 3, padding=1, groups=dim))
        self.conv1_4 = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.pointwise = _Pointwise(dim)
        self.convout = nn.Conv2d(dim, dim, 3, padding=1)

    def kernel(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The folded depthwise (dim, 1, 3, 3) kernel and bias."""
        central = self.conv1_1.conv.weight.flatten(1)  # (dim, 9)
        central = central - F.one_hot(torch.tensor(4), 9).to(central) * central.sum(1, keepdim=True)
        horizontal = self.conv1_2.conv.weight.flatten(1)  # (dim, 3): left column +, right column -
        vertical = self.conv1_3.conv.weight.flatten(1)  # (dim, 3): top row +, bottom row -
        zero = torch.zeros_like(horizontal[:, :1])
        h = torch.stack([horizontal[:, 0], zero[:, 0], -horizontal[:, 0],
                         horizontal[:, 1], zero[:, 0], -horizontal[:, 1],
                         horizontal[:, 2], zero[:, 0], -horizontal[:, 2]], dim=1)
        v = torch.cat([vertical, zero.expand(-1, 3), -vertical], dim=1)
        weight = (central + h + v).view(self.dim, 1, 3, 3) + self.conv1_4.weight
        bias = self.conv1_1.conv.bias + self.conv1_2.conv.bias + self.conv1_3.conv.bias + self.conv1_4.bias
        return weight, bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self.kernel()
        y = F.conv2d(x, weight, bias, padding=1, groups=self.dim)
        y = F.gelu(self.pointwise.pointwise(y)) + x
        return self.convout(y) + x


class GatedFeedForward(nn.Module):
    """DGFN: 1x1 expand to 2c, depthwise 3x3, GELU gate back to c channels (no output projection)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.project_in = nn.Conv2d(dim, dim * 2, 1)
        self.dwconv = nn.Conv2d(dim * 2, dim * 2, 3, padding=1, groups=dim * 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` is channels-last (B, T, H, W, C)."""
        b, t = x.shape[:2]
        y = x.flatten(0, 1).permute(0, 3, 1, 2)
        a, g = self.dwconv(self.project_in(y)).chunk(2, dim=1)
        y = F.gelu(a) * g
        return y.permute(0, 2, 3, 1).unflatten(0, (b, t))


class Attention3D(nn.Module):
    """The 3-D adaptive self-attention over windows, spatial (tokens within a frame) or temporal (frames).

    Input (B, T, nW, N, C): nW windows of N tokens. Like the official code, the projected q/k/v memory is
    re-read with raw reshapes (no permute), so a "token" is a contiguous chunk of nW*C/heads values rather
    than one pixel; the result depends on nW and only this exact sequence reproduces the checkpoint.
    """

    def __init__(self, dim: int, heads: int, temporal: bool, decoder: bool) -> None:
        super().__init__()
        self.heads = heads
        self.temporal = temporal
        self.decoder = decoder
        self.scale = (dim // heads) ** -0.5
        # Registration order differs between the official spatial and temporal classes; keep both.
        if temporal:
            self.query = nn.Linear(dim, dim)
            self.qkv = nn.Linear(dim, dim * 3)
        else:
            self.qkv = nn.Linear(dim, dim * 3)
            self.query = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)
        self.drop = nn.Dropout(0.01)

    def forward(self, x: torch.Tensor, noise: QueryNoise) -> torch.Tensor:
        b, t, nw, n, c = x.shape
        length = nw * c // self.heads
        # The official code draws the random query in every block, encoder included; drawing it here too
        # keeps the seeded stream aligned with it.
        raw = noise.draw((b, t, nw, QUERY_TOKENS, c), x)
        if self.temporal:
            q, k, v = self.qkv(x).reshape(b, t, n, 3, self.heads, length).permute(3, 0, 4, 2, 1, 5)
        else:
            q, k, v = self.qkv(x).reshape(b * t, n, 3, self.heads, length).permute(2, 0, 3, 1, 4)
        if self.decoder:
            if self.temporal:
                learned = self.query(raw).reshape(b, t, QUERY_TOKENS, self.heads, length).permute(0, 3, 2, 1, 4)
            else:
                learned = self.query(raw).reshape(b * t, QUERY_TOKENS, self.heads, length).permute(0, 2, 1, 3)
            q = F.interpolate(learned, size=q.shape[2:], mode="nearest")
        attn = self.drop(torch.softmax((q * self.scale) @ k.transpose(-2, -1), dim=-1))
        out = (attn @ v).transpose(1, 2).reshape(b * t, nw, n, c)
        return self.drop(self.proj(out))


def _window_and_shift(size: int) -> tuple[int, int]:
    # A side no larger than the window becomes one whole window and is not shifted (official rule).
    return (size, 0) if size <= WINDOW else (WINDOW, SHIFT)


class DynStaticBlock(nn.Module):
    """Gradient conv, then half the channels through spatial and half through temporal window attention.

    Both halves share ``norm1``, ``norm2`` and the feed-forward ``Mlp``. Odd blocks roll the windows by half
    a window; as in the official code the roll is not undone and no attention mask is used.
    """

    def __init__(self, dim: int, heads: int, shifted: bool, decoder: bool) -> None:
        super().__init__()
        half = dim // 2
        self.shifted = shifted
        self.norm1 = nn.LayerNorm(half)
        self.spatial_attn = Attention3D(half, heads, temporal=False, decoder=decoder)
        self.temporal_attn = Attention3D(half, heads, temporal=True, decoder=decoder)
        self.DSEConv = GradientConv(dim)
        self.norm2 = nn.LayerNorm(half)
        self.Mlp = GatedFeedForward(half)

    def _attend(self, x: torch.Tensor, attention: Attention3D, noise: QueryNoise) -> torch.Tensor:
        """Window attention on channels-last (B, T, H, W, C) plus the normalised input as an inner skip."""
        b, t, h, w, c = x.shape
        wh, sh = _window_and_shift(h)
        ww, sw = _window_and_shift(w)
        y = F.pad(self.norm1(x), (0, 0, 0, (-w) % ww, 0, (-h) % wh))
        hp, wp = y.shape[2:4]
        shifted = torch.roll(y, shifts=(-sh, -sw), dims=(2, 3)) if self.shifted and (sh or sw) else y
        windows = shifted.reshape(b, t, hp // wh, wh, wp // ww, ww, c).permute(0, 1, 2, 4, 3, 5, 6)
        windows = windows.reshape(b, t, (hp // wh) * (wp // ww), wh * ww, c)
        out = attention(windows, noise)
        out = out.reshape(b, t, hp // wh, wp // ww, wh, ww, c).permute(0, 1, 2, 4, 3, 5, 6).reshape(b, t, hp, wp, c)
        return (out + y)[:, :, :h, :w]

    def forward(self, x: torch.Tensor, noise: QueryNoise) -> torch.Tensor:
        b, t = x.shape[:2]
        x = self.DSEConv(x.flatten(0, 1)).unflatten(0, (b, t)).permute(0, 1, 3, 4, 2)
        spatial, temporal = x.chunk(2, dim=-1)
        spatial = spatial + self._attend(spatial, self.spatial_attn, noise)
        spatial = spatial + self.Mlp(self.norm2(spatial))
        temporal = temporal + self._attend(temporal, self.temporal_attn, noise)
        temporal = temporal + self.Mlp(self.norm2(temporal))
        return torch.cat([spatial, temporal], dim=-1).permute(0, 1, 4, 2, 3)


class Stage(nn.Module):
    """``depth`` blocks at one scale, alternating plain and shifted windows (official ``DynNet``)."""

    def __init__(self, dim: int, heads: int, depth: int, decoder: bool = False) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(DynStaticBlock(dim, heads, i % 2 == 1, decoder) for i in range(depth))

    def forward(self, x: torch.Tensor, noise: QueryNoise) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, noise)
        return x


class HaarFilters(nn.Module):
    """The 1-D Haar analysis filters, kept as buffers under the official names (they are in its checkpoints)."""

    def __init__(self) -> None:
        super().__init__()
        r = 0.5**0.5
        self.register_buffer("h0_col", torch.tensor([r, r]).view(1, 1, 2, 1))
        self.register_buffer("h1_col", torch.tensor([r, -r]).view(1, 1, 2, 1))
        self.register_buffer("h0_row", torch.tensor([r, r]).view(1, 1, 1, 2))
        self.register_buffer("h1_row", torch.tensor([r, -r]).view(1, 1, 1, 2))

    def bank(self) -> torch.Tensor:
        """(4, 1, 2, 2) stride-2 kernels: LL, then high-pass down the columns, along the rows, and both."""
        pairs = ((self.h0_col, self.h0_row), (self.h1_col, self.h0_row),
                 (self.h0_col, self.h1_row), (self.h1_col, self.h1_row))
        return torch.cat([col * row for col, row in pairs], dim=0)


class HaarDown(nn.Module):
    """One-level Haar DWT as a fixed stride-2 filter bank ([LL, three detail bands] x C), 1x1 conv, BN, ReLU."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.wt = HaarFilters()
        self.conv_bn_relu = nn.Sequential(nn.Conv2d(cin * 4, cout, 1), nn.BatchNorm2d(cout), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, c, h, w = x.shape
        bands = F.conv2d(x.reshape(b * t * c, 1, h, w), self.wt.bank().to(x.dtype), stride=2)
        bands = bands.view(b * t, c, 4, h // 2, w // 2).transpose(1, 2).reshape(b * t, 4 * c, h // 2, w // 2)
        return self.conv_bn_relu(bands).unflatten(0, (b, t))


class UpSample(nn.Module):
    """3x3 conv (no bias) to 2C channels, PixelShuffle(2), BN, GELU: C -> C/2 channels at twice the size."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(dim, dim * 2, 3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(dim // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape[:2]
        y = F.gelu(self.norm(F.pixel_shuffle(self.conv(x.flatten(0, 1)), 2)))
        return y.unflatten(0, (b, t))


class ReduceChannels(nn.Module):
    """1x1 convolution per frame (official ``Reduce_chans``)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.Reduce_chans = nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t = x.shape[:2]
        return self.Reduce_chans(x.flatten(0, 1)).unflatten(0, (b, t))


class DynStaticNet(nn.Module):
    """The U-Net: (B, T, 3, H, W) RGB in [0, 1] -> restored clip of the same shape (H, W multiples of 4).

    ``dim`` is 48 in the official training config and 24 in the paper. With ``deterministic`` the decoder
    queries come from a generator seeded with ``seed`` at every forward in eval mode, so one clip always gives
    one output; in training mode (and with ``deterministic=False``) they come from the global RNG.
    """

    def __init__(
        self,
        dim: int = 48,
        heads: tuple[int, int, int] = (1, 2, 4),
        depths: tuple[int, int, int] = (4, 6, 8),
        refine_depth: int = 4,
        deterministic: bool = True,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.dim = dim
        self.deterministic = deterministic
        self.seed = seed
        self.conv_input = Embeddings(3, dim)
        self.vid_e1 = Stage(dim, heads[0], depths[0])
        self.Down1 = HaarDown(dim, dim * 2)
        self.vid_e2 = Stage(dim * 2, heads[1], depths[1])
        self.Down2 = HaarDown(dim * 2, dim * 4)
        self.vid_m3 = Stage(dim * 4, heads[2], depths[2])
        self.Up2 = UpSample(dim * 4)
        self.reduce_chan2 = ReduceChannels(dim * 4, dim * 2)
        self.vid_d2 = Stage(dim * 2, heads[1], depths[1], decoder=True)
        self.Up1 = UpSample(dim * 2)
        self.reduce_chan1 = ReduceChannels(dim * 2, dim)
        self.vid_d1 = Stage(dim, heads[0], depths[0], decoder=True)
        self.refinement = Stage(dim, 2, refine_depth, decoder=True)
        self.conv_out = Embeddings(dim, 3)

    def _noise(self, device: torch.device) -> QueryNoise:
        # Training keeps the official fresh draw per step (a fixed query would change what is learned).
        if not self.deterministic or self.training:
            return QueryNoise(None)
        return QueryNoise(torch.Generator(device=device).manual_seed(self.seed))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        noise = self._noise(x.device)
        e1 = self.vid_e1(self.conv_input(x), noise)
        e2 = self.vid_e2(self.Down1(e1), noise)
        m3 = self.vid_m3(self.Down2(e2), noise)
        d2 = self.reduce_chan2(torch.cat([self.Up2(m3), e2], dim=2))
        d2 = self.vid_d2(d2, noise)
        d1 = self.reduce_chan1(torch.cat([self.Up1(d2), e1], dim=2))
        d1 = self.vid_d1(d1, noise)
        return self.conv_out(self.refinement(d1, noise)) + x


def width_of(state: dict[str, torch.Tensor]) -> int:
    """The embedding width of a DynStaticNet state dict (``conv_input.layer.0.weight`` is (dim, 3, 3, 3))."""
    return int(state["conv_input.layer.0.weight"].shape[0])
