"""Frames in -> restored frames out: temporal windows, tiles, blending; in order, bounded memory.

Progress is counted in frames the model has finished: window by window, and inside a window from the
model's own reports (``vrestore.models.progress``), mapped onto the frames the window keeps. A model that
does not report moves the count once per window.

A model that restores motion-averaged frames (``ModelSpec.motion_average``) has each window averaged on the
staging thread before the model sees it; while the model waits for that (the first window, mostly), the
averaging's own count is reported instead (``on_prepare``), so that a long first window shows it is alive.
Each window is averaged on its own, so the frames of an overlap are averaged twice (a few % of the averaging
with the long CPU windows); in exchange a kept frame has all its ``RADIUS`` neighbours each side whenever the
overlap is at least ``2 * RADIUS`` (the default overlap of PGDENet is 12 >= 6), as in one pass over the video.

Extra model inputs given as ``"auto"`` (``--sigma auto``) are estimated once per window from the window's
frames, on the staging thread, and the same values serve every tile of the window.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from vrestore.convert import peak_of, stack_images
from vrestore.engine.blend import TILE_FEATHER, WINDOW_FEATHER, WindowBlender
from vrestore.engine.chunking import ClipSettings, stream_shots
from vrestore.engine.pipeline import prefetch
from vrestore.engine.plan import Window
from vrestore.engine.profile import NO_PROFILE, StageProfile
from vrestore.engine.run_plan import RunPlan, fixed_plan
from vrestore.engine.tiling import TiledState, Tiler
from vrestore.engine.transfer import PendingImages, Uploader, start_download
from vrestore.errors import InputError
from vrestore.filters.motion_average import motion_average_images
from vrestore.frame import Frame
from vrestore.models.auto_inputs import auto_names, estimate_inputs
from vrestore.models.loaded import LoadedModel
from vrestore.models.progress import listen
from vrestore.options import ClipOptions, TileOptions

# Windows stacked ahead of the model on a staging thread.
STAGE_AHEAD = 2


def restore_frames(
    frames: Iterable[Frame],
    model: LoadedModel,
    tile: TileOptions | None = None,
    clip: ClipOptions | None = None,
    *,
    plan: RunPlan | None = None,
    window_feather: float = WINDOW_FEATHER,
    tile_feather: float = TILE_FEATHER,
    profile: StageProfile = NO_PROFILE,
    stage_ahead: int = STAGE_AHEAD,
    on_progress: Callable[[float], None] | None = None,
    on_inputs: Callable[[int, int, dict[str, float]], None] | None = None,
    on_prepare: Callable[[int, int], None] | None = None,
) -> Iterator[Frame]:
    """Restore a stream of frames; yields one frame per input, in order, with the input's timing.

    ``plan`` (``run_plan.plan_run``) gives the tiles and windows; without it ``tile`` and ``clip`` are taken
    as given (``run_plan.fixed_plan``, validated before the first frame is read: UsageError). A frame with
    ``shot_start`` set (``engine/cuts.mark_cuts``) starts a new shot: windows are planned per shot
    (``plan.plan_shots``) and a recurrent state is dropped, so nothing of one shot reaches the next.

    Output images have the input's dtype (uint8 or uint16) and ``model.scale`` times its size. The input
    is consumed lazily: at most one window plus its look-ahead (see ``chunking``) is held, plus
    ``stage_ahead`` windows stacked ahead on a staging thread (0: no thread). ``profile`` receives the
    upload, model, download and idle seconds. ``on_progress(frames)`` is called on the calling thread with
    the (fractional, never decreasing) number of frames the model has finished, during each window as the
    model reports and after it.
    ``on_inputs(first, stop, values)`` receives, window by window, the inputs estimated for the frames with
    indices ``first`` to ``stop - 1`` (only for a model with ``"auto"`` inputs).
    ``on_prepare(done, total)`` is called on the calling thread while the model waits for the motion average
    of a window (only for a model with ``motion_average``): ``done`` of its ``total`` frames are averaged.
    """
    if plan is None:
        plan = fixed_plan(model, tile, clip)
    elif tile is not None or clip is not None:
        raise ValueError("pass either a plan or tile/clip options, not both")
    tiler = Tiler(model, plan.tile, feather=tile_feather)
    blender: WindowBlender[Frame] = WindowBlender(0.0 if plan.clip.stateful else window_feather)
    counter = _FrameCounter(on_progress) if on_progress is not None else None
    return _restore(frames, model, plan.clip, tiler, blender, profile, stage_ahead, counter, on_inputs, on_prepare)


@torch.inference_mode()
def _restore(
    frames: Iterable[Frame],
    model: LoadedModel,
    settings: ClipSettings,
    tiler: Tiler,
    blender: WindowBlender[Frame],
    profile: StageProfile,
    stage_ahead: int,
    counter: _FrameCounter | None,
    on_inputs: Callable[[int, int, dict[str, float]], None] | None = None,
    on_prepare: Callable[[int, int], None] | None = None,
) -> Iterator[Frame]:
    windows = stream_shots(
        frames, _starts_shot, settings.length, settings.overlap, settings.keyframe_interval,
        shift_last=settings.shift_last,
    )
    averaging = _Averaging(on_prepare if stage_ahead == 0 else None) if model.spec.motion_average else None
    staged = _staged(windows, pin=model.device.type == "cuda", auto=model.extra if auto_names(model.extra) else None,
                     averaging=averaging)
    if stage_ahead > 0:
        waiting = averaging.relay(on_prepare) if averaging is not None and on_prepare is not None else None
        staged = prefetch(staged, stage_ahead, on_wait=waiting)
    upload = Uploader(model.device)
    state: TiledState | None = None
    # Downloads finish one window late, so the device computes window k while window k-1 comes back.
    pending: deque[tuple[list[Frame], PendingImages]] = deque()
    try:
        while True:
            with profile.stage("idle"):
                item = next(staged, None)
            if item is None:
                break
            window, items, host, inputs, fresh = item
            if inputs and on_inputs is not None:
                on_inputs(items[0].index, items[-1].index + 1, inputs)
            if fresh:
                state = None  # a new shot: nothing is carried across a cut
            with profile.stage("upload"):
                x = upload(host, peak_of(items[0].image.dtype))
            del host
            with profile.stage("model"), listen(counter.within(window) if counter is not None else None):
                out, state = tiler.run(x, state, inputs)
            del x
            if counter is not None:
                counter(window.keep_stop)
            ready = blender.add(window, out[0], items)
            del out
            if ready:
                with profile.stage("download"):
                    images = torch.stack([image for _, image in ready])
                    pending.append(([frame for frame, _ in ready], start_download(images, items[0].image.dtype)))
                del images, ready
            while len(pending) > 1:
                yield from _finish(*pending.popleft(), profile)
        while pending:
            yield from _finish(*pending.popleft(), profile)
    finally:
        _close(staged)


class _FrameCounter:
    """Turns the model's reports inside a window into frames finished, passed on when they grow."""

    def __init__(self, on_progress: Callable[[float], None]) -> None:
        self.on_progress = on_progress
        self.frames = 0.0

    def __call__(self, frames: float) -> None:
        if frames > self.frames:
            self.frames = frames
            self.on_progress(frames)

    def within(self, window: Window) -> Callable[[float], None]:
        """A listener mapping the model's 0..1 for ``window`` onto the frames that window keeps."""
        kept = window.keep_stop - window.keep_start
        return lambda fraction: self(window.keep_start + fraction * kept)


class _Averaging:
    """The motion average of the window being staged: frames done of its total, while it runs.

    Written by the staging thread, read by the model's thread: one tuple, replaced whole, so a reader never
    sees a count of one window with the total of another.
    """

    def __init__(self, report: Callable[[int, int], None] | None = None) -> None:
        self.report = report  # called at once, when averaging on the model's own thread (no staging thread)
        self.state: tuple[int, int] | None = None

    def __call__(self, images: list[np.ndarray]) -> list[np.ndarray]:
        total = len(images)
        self._set((0, total))
        try:
            return motion_average_images(images, on_frame=lambda done: self._set((done, total)))
        finally:
            self.state = None

    def relay(self, on_prepare: Callable[[int, int], None]) -> Callable[[], None]:
        """A poll for the model's thread: pass the current count on, if a window is being averaged."""
        def poll() -> None:
            state = self.state
            if state is not None:
                on_prepare(*state)
        return poll

    def _set(self, state: tuple[int, int]) -> None:
        self.state = state
        if self.report is not None:
            self.report(*state)


def _starts_shot(frame: Frame) -> bool:
    return frame.shot_start


def _staged(
    windows: Iterable[tuple[Window, list[Frame], bool]], *, pin: bool, auto: Mapping[str, Any] | None = None,
    averaging: _Averaging | None = None,
) -> Iterator[tuple[Window, list[Frame], torch.Tensor, dict[str, float], bool]]:
    """Check each window's frames, estimate the ``auto`` inputs of ``auto`` and stack the frames into one
    host tensor (pinned for CUDA); the last item says whether the window starts a shot. ``averaging``: the
    model restores motion-averaged frames (``ModelSpec.motion_average``); each frame is averaged with its
    neighbours in the window, which a cut never crosses, and rounded back to the input's depth, as training
    rounds its samples."""
    layout: tuple[tuple[int, ...], np.dtype] | None = None
    for window, items, fresh in windows:
        layout = _check_layout(items, layout)
        images = [frame.image for frame in items]
        inputs = estimate_inputs(auto, images, float(items[0].max_value)) if auto else {}
        if averaging is not None:
            images = averaging(images)
        yield window, items, stack_images(images, pin=pin), inputs, fresh


def _finish(frames: list[Frame], download: PendingImages, profile: StageProfile) -> list[Frame]:
    with profile.stage("download"):
        images = download.wait()
    return [frame.with_image(image) for frame, image in zip(frames, images, strict=True)]


def _close(iterator: object) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


def _check_layout(
    items: Sequence[Frame], layout: tuple[tuple[int, ...], np.dtype] | None
) -> tuple[tuple[int, ...], np.dtype]:
    """All frames of a stream must share shape and dtype (a mid-stream size change is not supported)."""
    expected = layout or (items[0].image.shape, items[0].image.dtype)
    for frame in items:
        image = frame.image
        if image.ndim != 3 or image.shape[2] != 3:
            raise InputError(f"frame {frame.index} has shape {image.shape}; expected an RGB image (H, W, 3)")
        if (image.shape, image.dtype) != expected:
            raise InputError(
                f"frame {frame.index} is {image.shape} {image.dtype} but earlier frames are "
                f"{expected[0]} {expected[1]}; the frame size or depth changed mid-stream, which is not supported"
            )
    return expected
