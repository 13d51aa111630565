"""The pipelines, wired from the parts: model loading and ``restore_video``.

This module owns resource lifetimes (reader, writer, model) and turns a run into a result record.
It never prints: progress goes through a callback, warnings through ``logging.getLogger("vrestore")``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vrestore.errors import InputError, WeightsError
from vrestore.io.info import VideoInfo
from vrestore.models import DEFAULT_MODEL, LoadedModel, build, get_spec, resolve_device, resolve_dtype
from vrestore.models.registry import is_registered
from vrestore.options import RestoreOptions

log = logging.getLogger("vrestore")

_KEEP_EXTENSIONS = (".mp4", ".mkv", ".mov", ".webm")


@dataclass(frozen=True)
class Progress:
    """A progress report: frames written so far, the expected total (None if unknown), seconds elapsed."""

    frames_done: int
    frames_total: int | None
    elapsed_s: float


@dataclass(frozen=True)
class RestoreResult:
    """What a finished restore produced."""

    input: str
    output: str
    model: str
    device: str
    frames: int
    seconds: float
    width: int
    height: int
    warnings: list[str] = field(default_factory=list)
    profile: dict[str, float] | None = None
    sizes: dict[str, object] | None = None

    @property
    def fps(self) -> float:
        """Frames per second over the whole run."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict:
        """A JSON-ready dict (the CLI's ``--json`` object)."""
        return {
            "input": self.input,
            "output": self.output,
            "model": self.model,
            "device": self.device,
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 3),
            "width": self.width,
            "height": self.height,
            "warnings": list(self.warnings),
            **({"sizes": dict(self.sizes)} if self.sizes is not None else {}),
            **({"profile": dict(self.profile)} if self.profile is not None else {}),
        }


def load_model(
    model_id: str = DEFAULT_MODEL,
    *,
    weights: Path | None = None,
    device: str = "auto",
    dtype: str = "fp32",
    cache_dir: Path | None = None,
    download_progress: Callable | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> LoadedModel:
    """Resolve ``model_id``, load and verify its weights, and place it on ``device``.

    Runs before any decoding so that a wrong id, a missing checkpoint or a bad device fails at once.
    ``weights`` is a local checkpoint that replaces the registered one; otherwise the registered checkpoint
    comes from the store in ``cache_dir`` (downloaded on first use; ``download_progress`` receives
    ``vrestore.weights.download.DownloadProgress`` reports). ``inputs`` sets the model's extra inputs
    (e.g. ``{"sigma": 15}``) over the spec's defaults.
    """
    if not is_registered(model_id) and model_id.split(".", 1)[0] == DEFAULT_MODEL:
        raise WeightsError(
            f"the default model '{DEFAULT_MODEL}' has no weights in this version of vrestore yet; "
            "pass --model tiny.test (or another id from 'vrestore models list')"
        )
    spec = get_spec(model_id)
    extra = spec.resolve_extra(inputs)
    torch_device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, spec, torch_device)
    from vrestore.weights.load import load_into, read_state_dict

    if weights is not None:
        state = read_state_dict(Path(weights), prefer=spec.state_key)
        module = spec.build_for_checkpoint(state) if spec.build_for_checkpoint is not None else build(spec)
        load_into(module, state, str(weights))
    elif spec.weights is not None:
        from vrestore.weights.store import Store

        module = build(spec)
        store = Store(cache_dir)
        path = store.fetch(spec.weights, progress=download_progress, label=spec.id)
        load_into(module, read_state_dict(path, store.entry(spec.weights).state_key), f"{spec.id} ({path})")
    elif spec.requires_weights:
        raise WeightsError(
            f"model {spec.id} has no downloadable checkpoint; pass one with --weights FILE "
            f"(see 'vrestore models inspect {spec.id}')"
        )
    else:
        module = build(spec)
    return LoadedModel(spec, module, device=torch_device, dtype=torch_dtype, extra=extra)


def default_output_path(source: Path, info: VideoInfo | None = None) -> Path:
    """``<stem>_restored.<ext>`` beside the input (mkv for containers we do not write; a folder for frames)."""
    source = Path(source)
    if info is not None and info.kind == "frames":
        base = source.parent if any(ch in source.name for ch in "*?[") else source
        return base.parent / f"{base.name}_restored"
    ext = source.suffix.lower() if source.suffix.lower() in _KEEP_EXTENSIONS else ".mkv"
    return source.with_name(f"{source.stem}_restored{ext}")


def restore_video(
    source: str | Path,
    destination: str | Path | None = None,
    options: RestoreOptions | None = None,
    *,
    model: LoadedModel | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> RestoreResult:
    """Restore ``source`` into ``destination`` (default ``<stem>_restored.<ext>`` beside it).

    The output is written under a temporary name and renamed only when complete; on any error or
    interrupt it is removed and the input is never touched. ``model`` skips loading (batch use).
    """
    options = options or RestoreOptions()
    if model is not None:
        return _restore(source, destination, options, lambda: model, model.scale, progress)
    return _restore(source, destination, options, lambda: _load_for(options), _scale_of(options.model), progress)


class Restorer:
    """Restores many files with one model, loaded on first use (so a batch loads and downloads it once).

    ``load_failed`` tells a batch driver that the error came from loading the model, which would repeat
    for every file, rather than from the file at hand.
    """

    def __init__(self, options: RestoreOptions | None = None) -> None:
        self.options = options or RestoreOptions()
        self.load_failed = False
        self._model: LoadedModel | None = None

    @property
    def model(self) -> LoadedModel:
        """The loaded model (loading it now if needed)."""
        if self._model is None:
            try:
                self._model = _load_for(self.options)
            except BaseException:
                self.load_failed = True
                raise
        return self._model

    def restore(
        self,
        source: str | Path,
        destination: str | Path | None = None,
        *,
        progress: Callable[[Progress], None] | None = None,
    ) -> RestoreResult:
        """Like :func:`restore_video` with this restorer's options and model."""
        scale = self._model.scale if self._model is not None else _scale_of(self.options.model)
        return _restore(source, destination, self.options, lambda: self.model, scale, progress)


def _load_for(options: RestoreOptions) -> LoadedModel:
    return load_model(
        options.model, weights=options.weights, device=options.device, dtype=options.dtype,
        cache_dir=options.cache_dir, inputs=options.model_inputs,
    )


def _restore(
    source: str | Path,
    destination: str | Path | None,
    options: RestoreOptions,
    get_model: Callable[[], LoadedModel],
    scale: int,
    progress: Callable[[Progress], None] | None,
) -> RestoreResult:
    from vrestore.engine.accel import accelerate
    from vrestore.engine.autosize import choose_sizes
    from vrestore.engine.chunking import resolve_clip
    from vrestore.engine.pipeline import run_pipeline
    from vrestore.engine.profile import NO_PROFILE, StageProfile
    from vrestore.engine.runner import restore_frames
    from vrestore.engine.smooth import check_strength, smooth_frames
    from vrestore.engine.tiling import Tiler
    from vrestore.io.probe import probe
    from vrestore.io.reader import open_reader
    from vrestore.io.writer import check_output, open_writer

    check_strength(options.temporal_smooth)
    source = Path(source)
    info = probe(source)
    dst = Path(destination) if destination is not None else default_output_path(source, info)
    check_output(dst, info, overwrite=options.overwrite, encode=options.encode,
                 size=(info.width * scale, info.height * scale))
    loaded = get_model()
    # Bad --tile/--clip values fail here, before the output is opened.
    resolve_clip(loaded.spec, options.clip)
    Tiler(loaded, options.tile)

    profile = StageProfile(loaded.device) if options.profile else NO_PROFILE
    collector = _WarningCollector()
    log.addHandler(collector)
    try:
        _check_size(info, loaded)
        # Measured before compiling (the probe's shapes would otherwise be compiled for nothing).
        sizes = choose_sizes(loaded, info.height, info.width, options.tile, options.clip)
        accelerate(loaded, compile=options.compile)
        started = time.perf_counter()
        profile.restart()
        with open_reader(source) as reader:
            out_w, out_h = info.width * loaded.scale, info.height * loaded.scale
            with open_writer(dst, info, width=out_w, height=out_h, encode=options.encode,
                             overwrite=options.overwrite) as writer:

                def on_frame(done: int) -> None:
                    if progress is not None:
                        progress(Progress(done, info.frame_count, time.perf_counter() - started))

                written = run_pipeline(
                    reader,
                    lambda frames: smooth_frames(
                        restore_frames(frames, loaded, sizes.tile, sizes.clip, profile=profile), options.temporal_smooth
                    ),
                    writer.write,
                    queue_size=options.queue_size,
                    on_frame=on_frame,
                    profile=profile,
                )
                if written == 0:
                    raise InputError(f"input '{source}' holds no decodable video frame; is the file complete?")
                writer.close()
    finally:
        log.removeHandler(collector)
    seconds = time.perf_counter() - started
    profile.finish()
    return RestoreResult(
        input=str(source),
        output=str(dst),
        model=loaded.spec.id,
        device=str(loaded.device),
        frames=written,
        seconds=seconds,
        width=info.width * loaded.scale,
        height=info.height * loaded.scale,
        warnings=collector.messages,
        profile=profile.report() if options.profile else None,
        sizes=sizes.to_dict(),
    )


def _scale_of(model_id: str) -> int:
    """The model's scale, or 1 when the id is unknown (load_model reports that error properly)."""
    return get_spec(model_id).scale if is_registered(model_id) else 1


def _check_size(info: VideoInfo, model: LoadedModel) -> None:
    need = model.spec.min_size
    if info.width < need or info.height < need:
        log.warning(f"input is {info.width}x{info.height}, smaller than the {need}x{need} model {model.spec.id} "
                    "works on; frames are padded by reflection for the model and cropped back")


class _WarningCollector(logging.Handler):
    """Keeps the warnings logged during a run so that results (and --json) can report them."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
