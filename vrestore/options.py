"""Frozen option records passed from the CLI (or a Python caller) into the pipelines."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "pgdenet"  # what restore runs without --model (its default tag is the bundled pgdenet.mc)
TUD_PROB = 0.55  # the TUD protocol's probability of leaving each degradation type out of a segment
DEFAULT_TILE_OVERLAP = 16  # pixels neighbouring tiles share, for every model (--tile-overlap)


@dataclass(frozen=True)
class TileOptions:
    """Spatial tiling. ``size`` None or 0 = whole frame (split automatically on out-of-memory)."""

    size: int | None = None
    overlap: int = DEFAULT_TILE_OVERLAP
    min_size: int = 64


@dataclass(frozen=True)
class ClipOptions:
    """Temporal chunking. ``length`` None = the model's preferred clip length.

    ``shift_last`` None = the model's rule for the last window (moved back to full length where that adds
    context); the engine turns it off on the CPU, where every recomputed frame costs (engine/autosize.py).
    """

    length: int | None = None
    overlap: int | None = None
    shift_last: bool | None = None


@dataclass(frozen=True)
class CutOptions:
    """Scene cuts, where temporal windows and recurrent state restart (``engine/cuts.py``).

    ``given`` frame indices are the cuts when not None (no detection); otherwise they are detected when
    ``detect``.
    """

    detect: bool = True
    given: tuple[int, ...] | None = None


@dataclass(frozen=True)
class EncodeOptions:
    """Output encoding. None fields mean "choose from the input and the container"."""

    codec: str | None = None
    crf: int | None = None
    preset: str | None = None
    pix_fmt: str | None = None


@dataclass(frozen=True)
class RestoreOptions:
    """Everything ``restore_video`` needs besides the paths."""

    model: str = DEFAULT_MODEL
    weights: Path | None = None
    device: str = "auto"
    dtype: str = "auto"
    tile: TileOptions = field(default_factory=TileOptions)
    clip: ClipOptions = field(default_factory=ClipOptions)
    cuts: CutOptions = field(default_factory=CutOptions)
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    overwrite: bool = False
    queue_size: int = 8
    cache_dir: Path | None = None
    model_inputs: dict[str, Any] = field(default_factory=dict)
    profile: bool = False
    compile: bool = False
    temporal_smooth: float = 0.0
    #: Keep the partial output on an interrupt, and continue from a kept one (see ``vrestore.resume``).
    resume: bool = False
