"""The settings of one restore, decided once: tiles, temporal windows, scene cuts, device and precision.

:func:`plan_run` resolves a :class:`RunPlan` from the options, the loaded model (its spec, and the device and
precision ``load_model`` placed it on) and the probed frame size; the engine, ``--preview``, the resume state and
``--json`` "sizes" read the plan and decide nothing again. The sizes:

- ``--tile`` given: kept, with the windows the clip options give (``chunking.resolve_clip``);
- otherwise ``autosize.choose_sizes``: measured on CUDA, the CPU rules elsewhere (a given ``--clip`` is kept);
- a resumed run (:func:`resumed_plan`): the sizes its state recorded, whatever memory is free now.

Bad ``--tile``/``--clip`` values are a UsageError here, before the output is opened.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from vrestore.engine.autosize import choose_sizes
from vrestore.engine.chunking import ClipSettings, resolve_clip
from vrestore.engine.plan import check_tile
from vrestore.models.loaded import LoadedModel, dtype_name
from vrestore.options import ClipOptions, CutOptions, RestoreOptions, TileOptions

log = logging.getLogger("vrestore")


@dataclass(frozen=True)
class RunPlan:
    """Everything a restore decides before its first frame is decoded.

    ``tile.size`` is the core tile size (0 = whole frames; the tiler still halves it on out-of-memory, not
    below ``tile.min_size``); ``clip`` the temporal windows; ``cuts`` how scene cuts are found. ``how`` says
    how the sizes were chosen ("given", "cpu", "measured" or "resumed"), ``note`` why.
    """

    model: str
    device: str
    dtype: str
    tile: TileOptions
    clip: ClipSettings
    cuts: CutOptions = field(default_factory=CutOptions)
    how: str = "given"
    note: str = ""

    def sizes(self) -> dict[str, object]:
        """The ``sizes`` object of ``--json``."""
        return {"tile": self.tile.size, "tile_overlap": self.tile.overlap, "clip": self.clip.length,
                "clip_overlap": self.clip.overlap, "how": self.how, "note": self.note}

    def resume_sizes(self) -> dict[str, Any]:
        """The sizes a resume state records (read back by :func:`resumed_plan`)."""
        return {"tile": asdict(self.tile),
                "clip": {"length": self.clip.length, "overlap": self.clip.overlap, "shift_last": self.clip.shift_last}}


def plan_run(model: LoadedModel, options: RestoreOptions, height: int, width: int) -> RunPlan:
    """The plan for restoring ``height`` x ``width`` frames with ``model`` and ``options``."""
    settings = _clip_settings(model, options.clip)
    _check_tile(model, options.tile)
    choice = choose_sizes(model, height, width, options.tile, options.clip, settings)
    return _plan(model, choice.tile, choice.clip, options.cuts, choice.how, choice.note)


def resumed_plan(model: LoadedModel, options: RestoreOptions, sizes: Mapping[str, Any], frames_done: int) -> RunPlan:
    """The plan of an interrupted run, from the ``sizes`` its resume state recorded (:meth:`RunPlan.resume_sizes`).

    The options are checked as for a new run; they match the interrupted run's (``resume.check_matches``).
    """
    _clip_settings(model, options.clip)
    _check_tile(model, options.tile)
    clip = resolve_clip(model.spec, ClipOptions(**sizes["clip"]))
    return _plan(model, TileOptions(**sizes["tile"]), clip, options.cuts, "resumed",
                 f"continued after {frames_done} frames")


def fixed_plan(model: LoadedModel, tile: TileOptions | None = None, clip: ClipOptions | None = None) -> RunPlan:
    """A plan that takes ``tile`` and ``clip`` as given (size None: the model's default tile), choosing nothing.

    For the engine's direct callers (tests, benchmarks, the precision check), which pick their own sizes.
    """
    tile = tile or TileOptions()
    settings = _clip_settings(model, clip or ClipOptions())
    _check_tile(model, tile)
    if tile.size is None:
        tile = TileOptions(model.spec.default_tile or 0, tile.overlap, tile.min_size)
    return _plan(model, tile, settings, CutOptions(), "given", "")


def _plan(model: LoadedModel, tile: TileOptions, clip: ClipSettings, cuts: CutOptions, how: str, note: str) -> RunPlan:
    return RunPlan(model.spec.id, str(model.device), dtype_name(model.dtype), tile, clip, cuts, how, note)


def _clip_settings(model: LoadedModel, clip: ClipOptions) -> ClipSettings:
    """The windows ``clip`` asks for (UsageError when they cannot be laid out), warning of an ignored overlap."""
    settings = resolve_clip(model.spec, clip)
    if clip.overlap and settings.stateful:
        log.warning("model %s carries its state across windows; --clip-overlap %d is ignored", model.spec.id,
                    clip.overlap)
    return settings


def _check_tile(model: LoadedModel, tile: TileOptions) -> None:
    """UsageError for tile options the tiler would refuse (an unset size stands for the model's default tile)."""
    size = tile.size if tile.size is not None else model.spec.default_tile
    check_tile(size, tile.overlap, tile.min_size)
