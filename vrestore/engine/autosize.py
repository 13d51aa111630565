"""Tile and clip size chosen from free GPU memory, by measuring the model rather than guessing.

A short probe runs the model on two small inputs of the same clip length and reads the peak memory of
each; the device memory of a forward pass is modelled as ``fixed + per_sample * frames * height * width``
(the activations of convolutional and windowed-attention networks grow linearly with the number of input
pixels). The largest tile whose predicted peak, plus the engine's own buffers for a window, fits in
``SAFETY`` of the free memory is chosen; the whole frame when it fits. If even a small tile does not fit,
the clip is shortened. On the CPU there is nothing to measure: the whole frame when it has no more pixels
than one tile of the model's default size (else that tile), and long windows whose last window is not moved
back (:func:`cpu_clip`): every frame a window repeats costs its full time on a CPU, so the windows grow into a
share of the RAM, from the model's per-frame memory, up to ``CPU_MAX_WINDOW_FACTOR`` times the default length.
A long window takes minutes on a CPU before its first frame is written; a shorter one would return its first
frames sooner, but it changes the output of a recurrent model (its state sees fewer frames) and costs more
(each window repeats its overlap); the progress bar moves inside the window instead
(``vrestore.models.progress``). Explicit ``--tile``/``--clip`` values are kept.

The choice only starts the run: the tiler still halves the tile on an out-of-memory error.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from vrestore.engine.chunking import ClipSettings, resolve_clip
from vrestore.engine.host_memory import usable_ram_bytes
from vrestore.engine.tiling import is_out_of_memory
from vrestore.errors import UsageError
from vrestore.models.loaded import LoadedModel
from vrestore.models.spec import ModelSpec
from vrestore.options import ClipOptions, TileOptions

SAFETY = 0.7  # fraction of the free memory the model may plan to use (fragmentation, cudnn workspaces)
PROBE_SIDES = (96, 160)  # the two probe sizes (before rounding to the model's multiple)
CPU_WINDOW_FACTOR = 2  # the shortest CPU windows, times the model's default length (see cpu_clip)
CPU_MAX_WINDOW_FACTOR = 8  # the longest
CPU_WINDOW_RAM_SHARE = 0.25  # of the RAM that one window may plan to use on the CPU
SMALL_TILE = 192  # below this core size a shorter clip is preferred (tiles that small waste their overlap)
_BYTES_PER_SAMPLE = 4 * 3  # float32 RGB


@dataclass(frozen=True)
class MemoryModel:
    """Peak device bytes of one forward pass: ``fixed + per_sample * frames * height * width``."""

    fixed: float
    per_sample: float

    def peak(self, frames: int, height: int, width: int) -> float:
        return self.fixed + self.per_sample * frames * height * width


@dataclass(frozen=True)
class SizeChoice:
    """The tile options and temporal windows a run uses, and how they were chosen (``run_plan.RunPlan``)."""

    tile: TileOptions
    clip: ClipSettings
    how: str  # "given", "cpu" or "measured"
    note: str = ""


Measure = Callable[[int, int, int], float]


def choose_sizes(
    model: LoadedModel,
    height: int,
    width: int,
    tile: TileOptions,
    clip: ClipOptions,
    settings: ClipSettings | None = None,
    *,
    free_bytes: float | None = None,
    measure: Measure | None = None,
    ram_bytes: float | None = None,
) -> SizeChoice:
    """Tile and windows for ``height`` x ``width`` frames: the given ones, else chosen as described above.

    ``settings`` are the windows ``clip`` gives (``resolve_clip``), when the caller has them.
    ``free_bytes`` and ``measure(frames, height, width) -> peak bytes`` default to the CUDA device's free
    memory and a real probe; ``ram_bytes`` (CPU) to ``host_memory.usable_ram_bytes()``; tests pass their own.
    """
    spec = model.spec
    clip_given = clip.length is not None
    settings = settings or resolve_clip(spec, clip)
    if tile.size is not None:
        return SizeChoice(tile, settings, "given")
    if model.device.type != "cuda" and measure is None:
        size, note = cpu_tile(spec.default_tile, height, width)
        ram = ram_bytes if ram_bytes is not None else usable_ram_bytes()
        return SizeChoice(replace(tile, size=size), cpu_clip(spec, clip, settings, height * width, ram), "cpu", note)
    if measure is None:
        measure = _probe(model)
    if free_bytes is None:
        free_bytes = float(torch.cuda.mem_get_info(model.device)[0])
    try:
        memory = fit_memory(model, settings.length, measure)
    except Exception as exc:  # noqa: BLE001  (only out-of-memory is handled; the rest re-raised)
        if not is_out_of_memory(exc):
            raise
        smallest = max(64, spec.min_size, tile.overlap + 1)
        return SizeChoice(replace(tile, size=smallest), settings, "measured",
                          "the memory probe itself ran out of memory; smallest tile")
    budget = SAFETY * free_bytes
    chosen = settings
    while True:
        size = _largest_tile(model, memory, budget, chosen.length, height, width, tile.overlap)
        if size == 0 or size >= SMALL_TILE or clip_given or (shorter := _shorter(spec, clip, chosen)) is chosen:
            break
        chosen = shorter
    note = (f"{memory.per_sample * 1e6 / 2**20:.1f} MiB per megapixel-frame, {memory.fixed / 2**20:.0f} MiB fixed, "
            f"{free_bytes / 2**20:.0f} MiB free")
    return SizeChoice(replace(tile, size=size), chosen, "measured", note)


def cpu_tile(default_tile: int | None, height: int, width: int) -> tuple[int, str]:
    """The tile size on the CPU (0 = whole frame) and why: the whole frame when it has no more pixels than
    one square ``default_tile`` tile, else that tile.

    A model's default tile bounds the memory of one forward pass; a frame of the same area costs the same,
    and splitting it into overlapping tiles would only add work (a 640x360 frame in 512-pixel tiles computes
    each pixel of the seams twice and runs the model twice per frame).
    """
    if not default_tile or height * width <= default_tile * default_tile:
        return 0, "whole frames (no device memory to measure; within the model's default tile area)"
    return default_tile, f"the model's default tile ({default_tile}): the frame is larger than its area"


def cpu_clip(
    spec: ModelSpec, clip: ClipOptions, settings: ClipSettings, frame_pixels: int, ram_bytes: float | None
) -> ClipSettings:
    """The windows on the CPU: as long as ``CPU_WINDOW_RAM_SHARE`` of ``ram_bytes`` holds, last window not shifted.

    On the CPU each frame computed twice costs its full time. With the default 48-frame PGDENet windows
    overlapping by 12, a quarter of the work is repeated (and shifting the last window back to full length
    repeats up to a whole window more: 280 frames computed as 382); 96-frame windows with a short last
    window repeat at most 1/8 (280 frames: 316); windows that hold the whole 280 frames repeat nothing.
    The length is the most frames of ``frame_pixels`` pixels whose memory (``spec.cpu_window_bytes`` per
    pixel-frame) fits the share, kept between ``CPU_WINDOW_FACTOR`` and ``CPU_MAX_WINDOW_FACTOR`` times the
    default length and rounded down to the key-frame interval; the shortest when the model's memory or the
    RAM is unknown. The RAM is the machine's total (not what is free now), so that a command gives the same
    output on every run. Every kept frame still has the overlap's context on each side (the overlap is cut
    at its middle), the guarantee the default windows give. The price is a first frame written later (the
    progress bar moves inside a window). A given ``--clip`` length, and windows that do not overlap, are
    kept as ``settings`` has them.
    """
    if clip.length is not None or settings.overlap == 0:
        return settings
    length = CPU_WINDOW_FACTOR * settings.length
    if spec.cpu_window_bytes and ram_bytes:
        fits = int(CPU_WINDOW_RAM_SHARE * ram_bytes / (spec.cpu_window_bytes * frame_pixels))
        length = max(length, min(fits, CPU_MAX_WINDOW_FACTOR * settings.length))
        if settings.keyframe_interval:
            length -= length % settings.keyframe_interval
    return resolve_clip(spec, replace(clip, length=length, shift_last=False))


def fit_memory(model: LoadedModel, frames: int, measure: Measure) -> MemoryModel:
    """Fit :class:`MemoryModel` from two probes of ``min(frames, 4)`` frames at two square sizes."""
    spec = model.spec
    t = max(1, min(frames, 4))
    sides = [_round_up(max(side, spec.min_size), spec.multiple_of) for side in PROBE_SIDES]
    if sides[0] == sides[1]:
        sides[1] += spec.multiple_of
    peaks = [measure(t, side, side) for side in sides]
    samples = [t * side * side for side in sides]
    per_sample = max((peaks[1] - peaks[0]) / (samples[1] - samples[0]), 0.0)
    if per_sample == 0.0:  # noisy probe: fall back to a proportional model through the larger probe
        per_sample = peaks[1] / samples[1]
    fixed = max(peaks[1] - per_sample * samples[1], 0.0)
    return MemoryModel(fixed, per_sample)


def _largest_tile(
    model: LoadedModel, memory: MemoryModel, budget: float, frames: int, height: int, width: int, overlap: int
) -> int:
    """0 (whole frame) when it fits, else the largest square core size that fits (at least the smallest)."""
    spec = model.spec
    # The engine's buffers for one window: input clip, output, tile accumulator and weights (float32).
    s2 = spec.scale * spec.scale
    engine = frames * height * width * _BYTES_PER_SAMPLE * (1 + 2 * s2)
    room = budget - engine - memory.fixed
    m = spec.multiple_of
    whole = frames * _round_up(height, m) * _round_up(width, m)
    if memory.per_sample * whole <= room:
        return 0
    fed = math.isqrt(max(int(room / (memory.per_sample * frames)), 0)) if room > 0 else 0
    fed = fed // m * m
    smallest = max(64, spec.min_size, overlap + 1)
    return max(fed - overlap, smallest)


def _shorter(spec: ModelSpec, clip: ClipOptions, settings: ClipSettings) -> ClipSettings:
    """Windows of half the length, as long as they stay valid (key frames, overlap); else ``settings``."""
    candidate = settings.length // 2
    if candidate < 2:
        return settings
    try:
        return resolve_clip(spec, replace(clip, length=candidate))
    except UsageError:
        return settings


def _probe(model: LoadedModel) -> Measure:
    """Peak CUDA bytes of ``model.run`` on a random clip of the given size (above what was allocated before)."""
    device = model.device

    def measure(frames: int, height: int, width: int) -> float:
        gc.collect()
        torch.cuda.synchronize(device)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        x = torch.rand(1, frames, 3, height, width, device=device)
        out, _ = model.run(x)
        del out, x
        torch.cuda.synchronize(device)
        peak = torch.cuda.max_memory_allocated(device) - before
        torch.cuda.empty_cache()
        return float(peak)

    return measure


def _round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
