"""PGDENet registrations: the official paper-size network, our small configuration on plain and on
motion-averaged frames, the wider one in training and a tiny test one.

``pgdenet.mc`` is the default tag, so the bare id ``pgdenet`` (``DEFAULT_MODEL``, what ``restore`` uses without
``--model``) runs its bundled weights offline; ``pgdenet.official`` has no downloadable checkpoint and needs
``--weights``.

Long videos are restored in windows of 48 frames overlapping by 12, with window starts on multiples of the
key-frame interval, so every window sees the video's own key frames (0, 6, 12, ...) as key frames. The
recurrent state is not carried across windows: each window starts from zeros, as the official test script
does for a whole clip, and the overlap is cut at its middle, so each output frame has at least 6 frames of
context on each side from its own window (``benchmarks/pgdenet_windows.py`` measures the difference to
whole-clip inference).
"""

from __future__ import annotations

from torch import nn

from vrestore.models.pgdenet.network import MIN_SIZE, PGDENet
from vrestore.models.registry import register
from vrestore.models.seeded import default_init
from vrestore.models.spec import ModelSpec, Temporal

TEST_SEED = 20261123
_COMMON = dict(
    task="all-in-one (time-varying noise, blur, compression, ...)",
    temporal=Temporal.CLIP,
    clip_length=48,
    temporal_radius=6,
    uses_keyframes=True,
    keyframe_interval=6,
    multiple_of=4,
    supports_half=True,
    supports_bfloat16=True,
)
# Measured on the CPU (benchmarks/results/cpu_speed-*.md): channels_last runs the network about 1.3x
# faster in fp32 and bf16, and bf16 keeps the bundled weights' quality (benchmarks/cpu_speed.py, section 4;
# tests/engine/test_precision.py).
_FAST = dict(channels_last=True, auto_bf16=True)
# Host bytes per pixel-frame of a CPU window in `vrestore restore` (benchmarks/cpu_window_memory.py; results in
# benchmarks/results/cpu_window_memory-*.md), rounded up: the runs vary by ~25 % with the allocator's reuse.
_TUD_WINDOW_BYTES = 90.0  # measured 66 and 83 at 640x360
# Measured 172 at 320x180; doubled, as tud's figure at 320x180 (43) was about half its 640x360 one.
_OFFICIAL_WINDOW_BYTES = 360.0
_WIDE_WINDOW_BYTES = 115.0  # measured 90 at 640x360 (Intel Xeon); rounded up as tud's
# tud's network plus the motion average's float copies of the window: 23 more than tud in the same run
# (benchmarks/results/restore_speed-2026-12-05-mc-vs-tud.md; a 280-frame clip, one window).
_MC_WINDOW_BYTES = _TUD_WINDOW_BYTES + 25.0


# The configuration we train and ship: small enough for a laptop CPU and for < 8 MB of fp16 weights.
TUD_CONFIG = dict(mid_channels=32, num_blocks=3, prompt_size=16, align_prompt_size=16, deform_groups=8)
# The configuration being trained to replace it (session 14, benchmarks/results/training.md). The decoder sees
# only the 1/4-size features, so 32 channels are 2 numbers per output pixel, fewer than the 3 of a per-pixel
# correction; at 48 (3 per pixel) the same recipe learns much faster per step and per CPU-hour.
WIDE_CONFIG = {**TUD_CONFIG, "mid_channels": 48}


def tud_net() -> PGDENet:
    """The shipped configuration (3.25 M parameters), freshly initialised.

    The last convolution starts at zero, so a new network is exactly the identity (its global residual) while
    every hidden layer stays alive. With PyTorch's default initialisation the first steps instead shrink the
    random residual the tail adds, which drives the whole tail towards zero: a saddle where the network sat
    at the identity for hundreds of steps (benchmarks/results/training.md).

    SpyNet's flow read-outs start at zero too: the official recipe starts from a pretrained SpyNet, which no
    installer can download here, and a random one warps every propagated feature by random flows. Zero flow
    (no motion compensation until the flow is learned) is the neutral start.
    """
    return _identity_start(PGDENet(**TUD_CONFIG))


def wide_net() -> PGDENet:
    """The wider configuration in training (``WIDE_CONFIG``), started as :func:`tud_net` starts."""
    return _identity_start(PGDENet(**WIDE_CONFIG))


def _identity_start(net: PGDENet) -> PGDENet:
    readouts = [net.conv_last] + [level.basic_module[-1] for level in net.spynet.basic_module]
    for conv in readouts:
        nn.init.zeros_(conv.weight)
        nn.init.zeros_(conv.bias)
    return net


def _seeded_test_net() -> PGDENet:
    return default_init(lambda: PGDENet(mid_channels=24, num_blocks=1, prompt_size=8, align_prompt_size=8), TEST_SEED)


OFFICIAL = register(ModelSpec(
    id="pgdenet.official",
    factory=PGDENet,
    description="PGDENet as published (39.85 M parameters); pass the official PGENet.pth with --weights",
    requires_weights=True,
    state_key="params",
    min_size=256,
    default_tile=512,
    cpu_window_bytes=_OFFICIAL_WINDOW_BYTES,
    **_COMMON,
    **_FAST,
))

TUD = register(ModelSpec(
    id="pgdenet.tud",
    factory=tud_net,
    description="PGDENet, small configuration (3.25 M parameters) on the frames as they are, with early bundled "
                "weights (a short CPU training curriculum; light restoration; the default before pgdenet.mc); "
                "train your own with configs/pgdenet-tud*.yml",
    weights="pgdenet.tud",
    min_size=256,
    default_tile=720,
    cpu_window_bytes=_TUD_WINDOW_BYTES,
    **_COMMON,
    **_FAST,
))

WIDE = register(ModelSpec(
    id="pgdenet.wide",
    factory=wide_net,
    description="PGDENet, 48-channel configuration (5.06 M parameters), the default model's successor in "
                "training: bundled weights of its training so far (not yet better than pgdenet.tud; 0.73x "
                "its speed on the CPU; frames as they are); train your own with configs/pgdenet-wide*.yml",
    weights="pgdenet.wide",
    state_key="params",
    min_size=256,
    default_tile=720,
    cpu_window_bytes=_WIDE_WINDOW_BYTES,
    **_COMMON,
    **_FAST,
))

MC = register(ModelSpec(
    id="pgdenet.mc",
    factory=tud_net,
    description="PGDENet, small configuration (3.25 M parameters) on motion-averaged frames: each frame is first "
                "averaged with its 3 neighbours each side, aligned by optical flow, and the network restores "
                "what the average leaves; bundled weights (CPU training); train your own with "
                "configs/pgdenet-mc.yml",
    weights="pgdenet.mc",
    state_key="params",
    min_size=256,
    default_tile=720,
    cpu_window_bytes=_MC_WINDOW_BYTES,
    motion_average=True,
    **_COMMON,
    **_FAST,
), default=True)  # a bare 'pgdenet' (the default model of restore) means the bundled weights

TEST = register(ModelSpec(
    id="pgdenet.test",
    factory=_seeded_test_net,
    description="tiny seeded PGDENet for tests (not a real restorer)",
    min_size=MIN_SIZE + (-MIN_SIZE) % 4,
    **_COMMON,
))
