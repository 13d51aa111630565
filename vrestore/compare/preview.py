"""A quick look before a long run: the first frames of an input restored, shown beside the input."""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import cv2
import numpy as np

from vrestore.compare.layout import compose, plan_grid
from vrestore.compare.run import CompareResult
from vrestore.convert import to_depth
from vrestore.io.info import VideoInfo
from vrestore.models.loaded import LoadedModel
from vrestore.options import RestoreOptions


def preview_path(output: Path) -> Path:
    """Where ``--preview`` writes for a given output: ``<stem>.preview.mp4`` beside it."""
    output = Path(output)
    return output.with_name(f"{output.stem if output.suffix else output.name}.preview.mp4")


def write_preview(source: str | Path, destination: str | Path, model: LoadedModel, options: RestoreOptions,
                  frames: int, *, info: VideoInfo | None = None) -> CompareResult:
    """Restore the first ``frames`` frames of ``source`` with ``model`` and write input | restored side by side.

    Uses the full run's plan (``run_plan.plan_run``: tiles, windows, scene cuts), so what the preview shows is
    what the run gives. An upscaling model's input panel is enlarged with nearest-neighbour sampling, to show
    its pixels honestly. ``info`` is ``probe(source)`` when the caller has it (the source is not probed again).
    """
    from vrestore.engine.cuts import mark_cuts
    from vrestore.engine.run_plan import plan_run
    from vrestore.engine.runner import restore_frames
    from vrestore.io.reader import open_reader
    from vrestore.io.writer import open_writer

    if frames < 1:
        raise ValueError(f"a preview needs at least 1 frame, got {frames}")
    started = time.perf_counter()
    with open_reader(source, info=info) as reader:  # raises InputError when no frame decodes
        info = reader.info
        originals = list(itertools.islice(reader, frames))
    plan = plan_run(model, options, info.height, info.width)
    marked = mark_cuts(originals, detect=plan.cuts.detect, given=plan.cuts.given)
    restored = list(restore_frames(marked, model, plan=plan))
    out_h, out_w = restored[0].image.shape[:2]
    grid = plan_grid([(out_w, out_h)] * 2)
    labels = ("input", f"restored ({model.spec.id})")
    with open_writer(destination, info, width=grid.width, height=grid.height, overwrite=True) as writer:
        for before, after in zip(originals, restored, strict=True):
            panel = _enlarge(before.image, out_w, out_h)
            picture = compose([panel, after.image], labels, grid)
            writer.write(before.with_image(to_depth(picture, before.image.dtype)))
        writer.close()
    return CompareResult(str(destination), len(restored), grid.width, grid.height,
                         time.perf_counter() - started)


def _enlarge(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if image.shape[1] == width and image.shape[0] == height:
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_NEAREST)
