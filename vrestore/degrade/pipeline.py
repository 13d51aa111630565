"""Apply frame plans to decoded frames (streaming; chunks only for inter-frame compression), and the sidecar.

The sidecar ``<output>.synth.json`` records the tool version, seed, protocol and, per frame, every
applied operator with its drawn parameters; :func:`replay` re-applies it to the clean frames and gives
the same pixels again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vrestore.convert import image_to_tensor, tensor_to_image
from vrestore.degrade.ops import OPS, apply_op
from vrestore.degrade.schedule import FramePlan
from vrestore.frame import Frame

SIDECAR_SUFFIX = ".synth.json"
SIDECAR_FORMAT = 1


def apply_plan(x: torch.Tensor, plan: FramePlan) -> torch.Tensor:
    """Apply a frame plan without clip operators to one (C,H,W) frame."""
    for step in plan.steps:
        if OPS[step.op].clip:
            raise ValueError(f"step {step.op} needs the whole chunk; use apply_chunk")
        x = apply_op(step.op, x, step.params)
    return x


def apply_chunk(frames: Sequence[torch.Tensor], plans: Sequence[FramePlan]) -> list[torch.Tensor]:
    """Apply the plans of one chunk (same operators in the same order) to its frames."""
    xs = list(frames)
    names = [step.op for step in plans[0].steps]
    if any([step.op for step in p.steps] != names for p in plans):
        raise ValueError("all frames of a chunk must share the operator sequence")
    for k, name in enumerate(names):
        if OPS[name].clip:
            xs = list(apply_op(name, torch.stack(xs), plans[0].steps[k].params))
        else:
            xs = [apply_op(name, x, p.steps[k].params) for x, p in zip(xs, plans, strict=True)]
    return xs


def _chunk_key(plan: FramePlan) -> int | None:
    for step in plan.steps:
        if step.chunk is not None:
            return step.chunk
    return None


def degrade_stream(
    frames: Iterable[Frame], plans: Iterator[FramePlan], record: list[dict[str, Any]]
) -> Iterator[Frame]:
    """Degrade frames in order following ``plans``; append each frame's plan (as a dict) to ``record``.

    Frames are processed one at a time, except that a plan with an inter-frame compression step buffers
    the frames of its chunk.
    """
    buffer: list[tuple[Frame, FramePlan]] = []
    buffer_key: int | None = None

    def flush() -> Iterator[Frame]:
        outs = apply_chunk([image_to_tensor(f.image) for f, _ in buffer], [p for _, p in buffer])
        for (frame, _), out in zip(buffer, outs, strict=True):
            yield frame.with_image(tensor_to_image(out, frame.image.dtype))
        buffer.clear()

    for frame, plan in zip(frames, plans, strict=False):  # plans never end
        record.append(plan.to_dict())
        key = _chunk_key(plan)
        if buffer and key != buffer_key:
            yield from flush()
        if key is None:
            out = apply_plan(image_to_tensor(frame.image), plan)
            yield frame.with_image(tensor_to_image(out, frame.image.dtype))
        else:
            buffer.append((frame, plan))
            buffer_key = key
    if buffer:
        yield from flush()


def replay(images: Sequence[np.ndarray], sidecar: dict[str, Any] | str | Path) -> list[np.ndarray]:
    """Re-apply a sidecar's recorded parameters to the clean ``images``: the degraded frames again."""
    data = read_sidecar(sidecar) if isinstance(sidecar, (str, Path)) else sidecar
    plans = [FramePlan.from_dict(entry) for entry in data["frames"]]
    if len(plans) != len(images):
        raise ValueError(f"the sidecar describes {len(plans)} frames but {len(images)} images were given")
    frames = [Frame(image=img, pts=i, time_base=None, index=i) for i, img in enumerate(images)]
    record: list[dict[str, Any]] = []
    return [f.image for f in degrade_stream(frames, iter(plans), record)]


def sidecar_path(output: str | Path) -> Path:
    """``<output>.synth.json`` (for a folder output ``lq/clip/``: ``lq/clip.synth.json``)."""
    out = Path(output)
    return out.with_name(out.name + SIDECAR_SUFFIX)


def sidecar_text(data: dict[str, Any]) -> str:
    """The sidecar's JSON text: header fields, then one line per frame (stable for byte comparisons)."""
    frames = data.get("frames", [])
    header = {k: v for k, v in data.items() if k != "frames"}
    head = json.dumps(header, indent=2)[:-2]
    rows = ",\n    ".join(json.dumps(f, separators=(", ", ": ")) for f in frames)
    return f'{head},\n  "frames": [\n    {rows}\n  ]\n}}\n'


def write_sidecar_part(path: Path, data: dict[str, Any]) -> Path:
    """Write the sidecar to a hidden temporary name beside ``path``; :func:`commit` renames it."""
    part = path.with_name(f".{path.name}.part")
    part.write_text(sidecar_text(data), encoding="utf-8")
    return part


def commit(part: Path, path: Path) -> None:
    """Atomically move a finished temporary file onto its final name."""
    os.replace(part, path)


def read_sidecar(path: str | Path) -> dict[str, Any]:
    """Load a sidecar written by ``vrestore synth``."""
    return json.loads(Path(path).read_text(encoding="utf-8"))
