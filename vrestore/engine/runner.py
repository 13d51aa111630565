"""Frames in -> restored frames out: temporal windows, tiles, blending; in order, bounded memory."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import torch

from vrestore.engine.blend import TILE_FEATHER, WINDOW_FEATHER, WindowBlender
from vrestore.engine.chunking import ClipSettings, resolve_clip, stream_windows
from vrestore.engine.pipeline import prefetch
from vrestore.engine.plan import Window
from vrestore.engine.profile import NO_PROFILE, StageProfile
from vrestore.engine.tiling import TiledState, Tiler
from vrestore.engine.transfer import PendingImages, Uploader, start_download
from vrestore.errors import InputError
from vrestore.frame import Frame
from vrestore.io.convert import peak_of, stack_images
from vrestore.models.loaded import LoadedModel
from vrestore.options import ClipOptions, TileOptions

# Windows stacked ahead of the model on a staging thread.
STAGE_AHEAD = 2


def restore_frames(
    frames: Iterable[Frame],
    model: LoadedModel,
    tile: TileOptions | None = None,
    clip: ClipOptions | None = None,
    *,
    window_feather: float = WINDOW_FEATHER,
    tile_feather: float = TILE_FEATHER,
    profile: StageProfile = NO_PROFILE,
    stage_ahead: int = STAGE_AHEAD,
) -> Iterator[Frame]:
    """Restore a stream of frames; yields one frame per input, in order, with the input's timing.

    Output images have the input's dtype (uint8 or uint16) and ``model.scale`` times its size. The input
    is consumed lazily: at most one window plus its look-ahead (see ``chunking``) is held, plus
    ``stage_ahead`` windows stacked ahead on a staging thread (0: no thread). Options are validated here,
    before the first frame is read (UsageError). ``profile`` receives the upload, model, download and idle
    seconds.
    """
    settings = resolve_clip(model.spec, clip)
    tiler = Tiler(model, tile or TileOptions(), feather=tile_feather)
    blender: WindowBlender[Frame] = WindowBlender(0.0 if settings.stateful else window_feather)
    return _restore(frames, model, settings, tiler, blender, profile, stage_ahead)


@torch.inference_mode()
def _restore(
    frames: Iterable[Frame],
    model: LoadedModel,
    settings: ClipSettings,
    tiler: Tiler,
    blender: WindowBlender[Frame],
    profile: StageProfile,
    stage_ahead: int,
) -> Iterator[Frame]:
    windows = stream_windows(
        frames, settings.length, settings.overlap, settings.keyframe_interval, shift_last=settings.shift_last
    )
    staged = _staged(windows, pin=model.device.type == "cuda")
    if stage_ahead > 0:
        staged = prefetch(staged, stage_ahead)
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
            window, items, host = item
            with profile.stage("upload"):
                x = upload(host, peak_of(items[0].image.dtype))
            del host
            with profile.stage("model"):
                out, state = tiler.run(x, state)
            del x
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


def _staged(
    windows: Iterable[tuple[Window, list[Frame]]], *, pin: bool
) -> Iterator[tuple[Window, list[Frame], torch.Tensor]]:
    """Check each window's frames and stack them into one host tensor (pinned for CUDA)."""
    layout: tuple[tuple[int, ...], np.dtype] | None = None
    for window, items in windows:
        layout = _check_layout(items, layout)
        yield window, items, stack_images([frame.image for frame in items], pin=pin)


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
