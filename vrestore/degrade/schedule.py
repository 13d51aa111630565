"""How degradation types and strengths change over time: the TUD schedule, fixed, and ramp.

TUD (AverNet/PGDENet): every ``interval`` frames a new pipeline is drawn - the seven types in random
order, each kept with probability ``1 - prob`` - and every intensity is re-drawn for every frame.
Unlike the official script (whose ``main()`` overwrites ``--continuous_frames`` with 6, so T12/T24
runs silently produce T6 data), the interval given here is the interval used.

Randomness: one ``numpy.random.SeedSequence([seed, key])`` spawns independent generators for the type
selection, the per-frame parameters and the weather, so the schedule alone can be studied without pixels
and a clip's plan does not depend on any other clip (``key`` identifies the clip in dataset mode).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from vrestore.degrade.ops import OPS, TUD_OPS, Params, draw_params
from vrestore.degrade.spec import OpSpec
from vrestore.errors import UsageError
from vrestore.options import TUD_PROB

SCHEDULES: tuple[str, ...] = ("tud", "fixed", "ramp")


@dataclass(frozen=True)
class Step:
    """One operator applied to one frame with its drawn parameters; ``chunk`` = first frame of its chunk."""

    op: str
    params: Params
    chunk: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the sidecar's per-frame entries)."""
        out: dict[str, Any] = {"op": self.op, **self.params}
        if self.chunk is not None:
            out["chunk"] = self.chunk
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Step:
        """Inverse of :meth:`to_dict`."""
        params = dict(data)
        name = params.pop("op")
        chunk = params.pop("chunk", None)
        return cls(name, params, chunk)


@dataclass(frozen=True)
class FramePlan:
    """What happens to frame ``index``: the steps in order (weather first), its segment and ramp level."""

    index: int
    segment: int
    steps: tuple[Step, ...]
    level: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out: dict[str, Any] = {"index": self.index, "segment": self.segment}
        if self.level is not None:
            out["level"] = self.level
        out["ops"] = [step.to_dict() for step in self.steps]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FramePlan:
        """Inverse of :meth:`to_dict`."""
        return cls(int(data["index"]), int(data["segment"]), tuple(Step.from_dict(s) for s in data["ops"]),
                   data.get("level"))


class Schedule:
    """Per-frame plans for one clip; call :meth:`plans` once and consume it in frame order."""

    def __init__(
        self,
        *,
        seed: int,
        size: tuple[int, int],
        chain: Sequence[OpSpec] | None = None,
        mode: str = "tud",
        interval: int = 12,
        prob: float = TUD_PROB,
        frame_count: int | None = None,
        weather: OpSpec | None = None,
        key: int = 0,
        pool: Sequence[str] | None = None,
    ) -> None:
        if mode not in SCHEDULES:
            raise UsageError(f"schedule '{mode}' is unknown; choose one of: {' '.join(SCHEDULES)}")
        if interval < 1:
            raise UsageError(f"interval {interval} must be at least 1 frame; use e.g. 6, 12 or 24")
        if not 0.0 <= prob <= 1.0:
            raise UsageError(f"prob {prob} must be between 0 and 1 (the TUD default is {TUD_PROB})")
        unknown = sorted(set(pool or ()) - set(TUD_OPS))
        if unknown:
            raise UsageError(f"degradation(s) {', '.join(unknown)} cannot be drawn at random; choose from: "
                             f"{' '.join(TUD_OPS)}")
        self.pool = tuple(pool) if pool else TUD_OPS
        self.mode, self.interval, self.prob = mode, interval, prob
        self.size, self.frame_count = size, frame_count
        self.chain = list(chain) if chain is not None else None
        self.weather = weather
        select, params, sky = np.random.SeedSequence([int(seed), int(key)]).spawn(3)
        self._select_rng = np.random.default_rng(select)
        self._param_rng = np.random.default_rng(params)
        self._weather_rng = np.random.default_rng(sky)

    # -- selection -------------------------------------------------------------------------------

    def draw_selection(self) -> list[OpSpec]:
        """The pipeline of one segment: the chain as given, or a random subset of the pool (by default all TUD
        operators) in random order, each kept with probability ``1 - prob``."""
        if self.chain is not None:
            return list(self.chain)
        order = self._select_rng.permutation(len(self.pool))
        return [OpSpec(self.pool[i]) for i in order if self._select_rng.random() > self.prob]

    def _level(self, index: int) -> float | None:
        if self.mode != "ramp":
            return None
        total = self.frame_count if self.frame_count and self.frame_count > 1 else None
        span = (total - 1) if total else 10 * self.interval
        return round(min(1.0, index / span), 4)

    # -- plans -----------------------------------------------------------------------------------

    def plans(self) -> Iterator[FramePlan]:
        """Frame plans for frames 0, 1, 2, ... (endless; stop when the frames end)."""
        weather_params = None
        if self.weather is not None:
            strength = self.weather.overrides.get("strength", 0.5)
            weather_params = draw_params(self.weather.name, self._weather_rng, self.size, level=strength,
                                         overrides=self.weather.overrides)
        selection: list[OpSpec] = []
        held: dict[int, Params] = {}  # fixed schedule: parameters drawn once, by step position
        clip_params: dict[int, Params] = {}  # chunk parameters of clip operators, by step position
        index = 0
        while True:
            segment = index // self.interval if self.mode == "tud" else 0
            new_segment = index == 0 or (self.mode == "tud" and index % self.interval == 0)
            if new_segment:
                selection = self.draw_selection()
                clip_params = {}
            level = self._level(index)
            chunk = index - index % self.interval
            steps: list[Step] = []
            if weather_params is not None:
                params = dict(weather_params)
                if "t" in params:
                    params["t"] = index
                steps.append(Step(self.weather.name, params))
            for pos, spec in enumerate(selection):
                op = OPS[spec.name]
                if op.clip:
                    if index % self.interval == 0 or pos not in clip_params:
                        clip_params[pos] = draw_params(spec.name, self._param_rng, self.size, level, spec.overrides)
                    steps.append(Step(spec.name, dict(clip_params[pos]), chunk))
                    continue
                if self.mode == "fixed":
                    if index == 0:
                        held[pos] = draw_params(spec.name, self._param_rng, self.size, None, spec.overrides)
                    params = dict(held[pos])
                    for key in op.fresh:
                        if key not in spec.overrides:
                            params[key] = int(self._param_rng.integers(0, 2**32))
                else:
                    params = draw_params(spec.name, self._param_rng, self.size, level, spec.overrides)
                steps.append(Step(spec.name, params))
            yield FramePlan(index, segment, tuple(steps), level)
            index += 1
