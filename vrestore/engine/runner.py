"""Frames in -> restored frames out: temporal windows, tiles, blending; in order, bounded memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
import torch

from vrestore.engine.blend import TILE_FEATHER, WINDOW_FEATHER, WindowBlender
from vrestore.engine.chunking import ClipSettings, resolve_clip, stream_windows
from vrestore.engine.tiling import TiledState, Tiler
from vrestore.errors import InputError
from vrestore.frame import Frame
from vrestore.io.convert import clip_to_images, images_to_clip
from vrestore.models.loaded import LoadedModel
from vrestore.options import ClipOptions, TileOptions


def restore_frames(
    frames: Iterable[Frame],
    model: LoadedModel,
    tile: TileOptions | None = None,
    clip: ClipOptions | None = None,
    *,
    window_feather: float = WINDOW_FEATHER,
    tile_feather: float = TILE_FEATHER,
) -> Iterator[Frame]:
    """Restore a stream of frames; yields one frame per input, in order, with the input's timing.

    Output images have the input's dtype (uint8 or uint16) and ``model.scale`` times its size. The input
    is consumed lazily: at most one window plus its look-ahead (see ``chunking``) is held. Options are
    validated here, before the first frame is read (UsageError).
    """
    settings = resolve_clip(model.spec, clip)
    tiler = Tiler(model, tile or TileOptions(), feather=tile_feather)
    blender: WindowBlender[Frame] = WindowBlender(0.0 if settings.stateful else window_feather)
    return _restore(frames, model, settings, tiler, blender)


def _restore(
    frames: Iterable[Frame],
    model: LoadedModel,
    settings: ClipSettings,
    tiler: Tiler,
    blender: WindowBlender[Frame],
) -> Iterator[Frame]:
    state: TiledState | None = None
    layout: tuple[tuple[int, ...], np.dtype] | None = None
    windows = stream_windows(
        frames, settings.length, settings.overlap, settings.keyframe_interval, shift_last=settings.shift_last
    )
    for window, items in windows:
        layout = _check_layout(items, layout)
        x = images_to_clip([frame.image for frame in items], model.device)
        out, state = tiler.run(x, state)
        del x
        ready = blender.add(window, out[0], items)
        del out
        if ready:
            yield from _to_frames(ready)


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


@torch.inference_mode()
def _to_frames(ready: list[tuple[Frame, torch.Tensor]]) -> list[Frame]:
    stacked = torch.stack([image for _, image in ready])
    images = clip_to_images(stacked, dtype=ready[0][0].image.dtype)
    return [frame.with_image(image) for (frame, _), image in zip(ready, images, strict=True)]
