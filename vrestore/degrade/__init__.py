"""Synthetic degradations for making training and test data: operators, schedules (TUD), the sidecar.

``ops`` holds one pure, seeded function per degradation; ``schedule`` decides which apply to which frame
and how strongly; ``pipeline`` applies the plans to frames and reads/writes the ``.synth.json`` sidecar.
"""

from __future__ import annotations

from vrestore.degrade.ops import OPS, TUD_OPS, WEATHER_OPS, apply_op, draw_params
from vrestore.degrade.pipeline import replay, sidecar_path
from vrestore.degrade.schedule import SCHEDULES, FramePlan, Schedule, Step
from vrestore.degrade.spec import OpSpec, parse_spec

__all__ = [
    "OPS", "SCHEDULES", "TUD_OPS", "WEATHER_OPS", "FramePlan", "OpSpec", "Schedule", "Step",
    "apply_op", "draw_params", "parse_spec", "replay", "sidecar_path",
]
