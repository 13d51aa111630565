"""``compare_videos`` (a side-by-side, grid or split-screen video) and ``compare_stills`` (a PNG grid of frames)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vrestore.compare.layout import Crop, compose, plan_grid, prepare, split
from vrestore.convert import peak_of, to_depth
from vrestore.errors import InputError, OutputError, UsageError
from vrestore.frame import Frame
from vrestore.options import EncodeOptions
from vrestore.warnings_log import WarningCollector

log = logging.getLogger(__name__)
vrestore_log = logging.getLogger("vrestore")

MAX_INPUTS = 4


@dataclass(frozen=True)
class CompareOptions:
    """How to lay out a comparison. ``labels`` default to the inputs' file names."""

    labels: tuple[str, ...] | None = None
    layout: str = "auto"
    split: bool = False
    split_position: float = 0.5
    crop: Crop | None = None
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    overwrite: bool = False


@dataclass(frozen=True)
class CompareResult:
    """What a comparison produced (``notes``: letterboxing, length mismatch, the readers' warnings)."""

    output: str
    frames: int
    width: int
    height: int
    seconds: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-ready dict (the CLI's ``--json`` object)."""
        return {"output": self.output, "frames": self.frames, "width": self.width, "height": self.height,
                "seconds": round(self.seconds, 3), "notes": self.notes}


def compare_videos(sources: Sequence[str | Path], destination: str | Path,
                   options: CompareOptions | None = None) -> CompareResult:
    """Stack 2-4 videos (or frame folders) into one video with the first input's timing and audio."""
    from vrestore.io.reader import open_reader
    from vrestore.io.writer import open_writer

    options = options or CompareOptions()
    labels = _labels(sources, options)
    _check_destination(sources, destination)
    if Path(destination).suffix.lower() in (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"):
        raise UsageError("an image output needs --frames (which frames to show), e.g. --frames 0,50,100")
    started = time.perf_counter()
    notes: list[str] = []
    heard = WarningCollector()  # the readers' too, e.g. an input whose broken timestamps were repaired
    with ExitStack() as stack:
        vrestore_log.addHandler(heard)
        stack.callback(vrestore_log.removeHandler, heard)
        readers = [stack.enter_context(open_reader(s)) for s in sources]
        streams = [iter(r) for r in readers]
        first = [next(s) for s in streams]  # a reader yields a frame or raises InputError
        grid, notes = _plan([prepare(f.image, options.crop) for f in first], options)
        picture = _picture(first, labels, options, grid)
        info = readers[0].info
        writer = stack.enter_context(open_writer(destination, info, width=picture.shape[1], height=picture.shape[0],
                                                 encode=options.encode, overwrite=options.overwrite))
        writer.write(first[0].with_image(to_depth(picture, first[0].image.dtype)))
        count = 1
        while True:
            frames = [_next(stream) for stream in streams]
            if any(f is None for f in frames):
                break
            writer.write(frames[0].with_image(to_depth(_picture(frames, labels, options, grid), frames[0].image.dtype)))
            count += 1
        if any(f is not None for f in frames):
            notes.append(f"inputs differ in length; the comparison stops at the shortest ({count} frames)")
            log.warning(notes[-1])
        writer.close()
    notes += [message for message in heard.messages if message not in notes]
    return CompareResult(str(destination), count, picture.shape[1], picture.shape[0],
                         time.perf_counter() - started, notes)


def compare_stills(sources: Sequence[str | Path], frames: Sequence[int], destination: str | Path,
                   options: CompareOptions | None = None, reference: str | Path | None = None) -> CompareResult:
    """A PNG grid: one row per frame index, one column per input; labels carry PSNR/SSIM vs ``reference``."""
    from vrestore.io.frames import write_image

    options = options or CompareOptions()
    if options.split:
        raise UsageError("--split makes a video; for still frames leave it out")
    if not frames or any(i < 0 for i in frames):
        raise UsageError("--frames needs frame numbers from 0, e.g. --frames 0,50,100")
    labels = _labels(sources, options)
    _check_destination(sources, destination)
    started = time.perf_counter()
    wanted = sorted(set(frames))
    picked = [_pick(s, wanted) for s in sources]
    truth = _pick(reference, wanted) if reference is not None else None
    panels, names = [], []
    for index in frames:
        for k, source_frames in enumerate(picked):
            image = source_frames[index]
            text = f"{labels[k]} #{index}"
            if truth is not None:
                text += _score_text(image, truth[index])
            panels.append(prepare(image, options.crop))
            names.append(text)
    grid, notes = _plan(panels, CompareOptions(layout="grid", crop=options.crop), columns=len(sources))
    picture = compose(panels, names, grid)
    write_image(Path(destination), picture, overwrite=options.overwrite)
    return CompareResult(str(destination), len(frames), picture.shape[1], picture.shape[0],
                         time.perf_counter() - started, notes)


def _labels(sources: Sequence[str | Path], options: CompareOptions) -> list[str]:
    if not 2 <= len(sources) <= MAX_INPUTS:
        raise UsageError(f"compare takes 2 to {MAX_INPUTS} inputs, got {len(sources)}")
    if options.split and len(sources) != 2:
        raise UsageError("--split compares exactly two inputs")
    if options.labels is not None:
        if len(options.labels) != len(sources):
            raise UsageError(f"--labels gives {len(options.labels)} names for {len(sources)} inputs")
        return list(options.labels)
    return [Path(str(s)).stem or str(s) for s in sources]


def _check_destination(sources: Sequence[str | Path], destination: str | Path) -> None:
    target = Path(destination).resolve()
    for source in sources:
        if Path(str(source)).resolve() == target:
            raise OutputError(f"output '{destination}' is one of the inputs; choose another output name")


def _plan(images: Sequence[np.ndarray], options: CompareOptions, columns: int | None = None):
    sizes = [(im.shape[1], im.shape[0]) for im in images]
    notes = []
    if len(set(sizes)) > 1 and not options.split:
        notes.append("inputs differ in size (" + ", ".join(f"{w}x{h}" for w, h in dict.fromkeys(sizes))
                     + "); smaller panels are letterboxed")
        log.warning(notes[-1])
    return plan_grid(sizes, options.layout, columns), notes


def _picture(frames: Sequence[Frame], labels: Sequence[str], options: CompareOptions, grid) -> np.ndarray:
    images = [prepare(f.image, options.crop) for f in frames]
    if options.split:
        return split(images[0], images[1], labels, options.split_position)
    return compose(images, labels, grid)


def _next(stream: Iterator[Frame]) -> Frame | None:
    return next(stream, None)


def _pick(source: str | Path, wanted: Sequence[int]) -> dict[int, np.ndarray]:
    """The frames of ``source`` at the indices ``wanted`` (sorted), read in one pass."""
    from vrestore.io.reader import open_reader

    found: dict[int, np.ndarray] = {}
    with open_reader(source) as reader:
        for frame in reader:
            if frame.index in wanted:
                found[frame.index] = frame.image
            if frame.index >= wanted[-1]:
                break
    missing = [i for i in wanted if i not in found]
    if missing:
        raise InputError(f"input '{source}' has no frame {missing[0]} (frames are numbered from 0); "
                         "pick smaller --frames")
    return found


def _score_text(image: np.ndarray, truth: np.ndarray) -> str:
    if image.shape != truth.shape:
        return " (size differs from reference)"
    import torch

    from vrestore.metrics.psnr import psnr
    from vrestore.metrics.ssim import ssim

    peak = float(peak_of(image.dtype))
    a = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None]
    b = torch.from_numpy(np.ascontiguousarray(truth)).permute(2, 0, 1)[None]
    p, s = float(psnr(a, b, peak)[0]), float(ssim(a, b, peak)[0])
    return f"  {p:.2f} dB / {s:.4f}" if p != float("inf") else "  identical"
