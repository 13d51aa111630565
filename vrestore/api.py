"""The pipelines, wired from the parts: model loading and ``restore_video``.

This module owns resource lifetimes (reader, writer, model) and turns a run into a result record.
It never prints: progress goes through a callback, warnings through ``logging.getLogger("vrestore")``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vrestore.errors import UsageError, WeightsError
from vrestore.frame import Frame
from vrestore.inputs_report import InputsLog
from vrestore.io.info import VideoInfo
from vrestore.models import DEFAULT_MODEL, LoadedModel, build, get_spec, resolve_device, resolve_dtype, resolve_id
from vrestore.models.registry import is_registered
from vrestore.options import RestoreOptions
from vrestore.stream import Progress
from vrestore.warnings_log import WarningCollector

log = logging.getLogger("vrestore")

_KEEP_EXTENSIONS = (".mp4", ".mkv", ".mov", ".webm")


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
    weights: dict[str, str | None] | None = None
    dtype: str | None = None  # the compute precision used (what --dtype auto picked)
    #: the model's extra inputs as used, e.g. {"sigma": {"auto": True, "per_window": [...]}} (inputs_report)
    inputs: dict[str, dict[str, Any]] | None = None
    cuts: list[int] | None = None  # frames that start a new shot (scene cuts)

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
            **({"weights": dict(self.weights)} if self.weights is not None else {}),
            "device": self.device,
            **({"dtype": self.dtype} if self.dtype is not None else {}),
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "fps": round(self.fps, 3),
            "width": self.width,
            "height": self.height,
            **({"cuts": list(self.cuts)} if self.cuts is not None else {}),
            "warnings": list(self.warnings),
            **({"sizes": dict(self.sizes)} if self.sizes is not None else {}),
            **({"profile": dict(self.profile)} if self.profile is not None else {}),
            **(dict(self.inputs) if self.inputs else {}),
        }


def load_model(
    model_id: str = DEFAULT_MODEL,
    *,
    weights: Path | None = None,
    device: str = "auto",
    dtype: str = "auto",
    cache_dir: Path | None = None,
    download_progress: Callable | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> LoadedModel:
    """Resolve ``model_id``, load and verify its weights, and place it on ``device``.

    Runs before any decoding so that a wrong id, a missing checkpoint or a bad device fails at once.
    ``weights`` is a local checkpoint that replaces the registered one; otherwise the registered checkpoint
    comes from the store in ``cache_dir`` (downloaded on first use; ``download_progress`` receives
    ``vrestore.weights.download.DownloadProgress`` reports). ``inputs`` sets the model's extra inputs
    (e.g. ``{"sigma": 15}``) over the spec's defaults. ``dtype`` is auto, fp32, fp16 or bf16 (auto:
    ``vrestore.models.loaded.auto_dtype``).
    """
    spec = get_spec(model_id)
    extra = spec.resolve_extra(inputs)
    torch_device = resolve_device(device)
    torch_dtype = resolve_dtype(dtype, spec, torch_device)
    from vrestore.weights.download import hash_file
    from vrestore.weights.load import WeightsUsed, load_into, read_registered, read_user_checkpoint

    if weights is not None:
        state, sha256 = read_user_checkpoint(Path(weights), prefer=spec.state_key)
        module = spec.build_for_checkpoint(state) if spec.build_for_checkpoint is not None else build(spec)
        load_into(module, state, str(weights))
        used = WeightsUsed("file", str(weights), sha256)
    elif spec.weights is not None:
        from vrestore.weights.store import Store

        module = build(spec)
        store = Store(cache_dir)
        state, path = read_registered(store, spec.weights, progress=download_progress, label=spec.id)
        load_into(module, state, f"{spec.id} ({path})")
        expected = store.expected(spec.weights)  # fetch has just checked the file against it
        used = WeightsUsed("bundled" if store.entry(spec.weights).bundled else "cache", str(path),
                           expected.sha256 if expected is not None else hash_file(path)[0])
    elif spec.requires_weights:
        raise WeightsError(
            f"model {spec.id} has no downloadable checkpoint; pass one: vrestore restore IN OUT --model {spec.id} "
            f"--weights FILE (or leave out --model for {resolve_id(DEFAULT_MODEL)}, which has bundled weights)"
        )
    else:
        module = build(spec)
        used = WeightsUsed("built-in")
    return LoadedModel(spec, module, device=torch_device, dtype=torch_dtype, extra=extra, weights=used)


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

    ``-`` reads stdin as ``source`` (any stream PyAV demuxes from a pipe) and writes y4m to stdout as
    ``destination``.

    The output is written under a temporary name and renamed only when complete; on any error or
    interrupt it is removed and the input is never touched. ``model`` skips loading (batch use).
    With ``options.resume`` an interrupt keeps the partial output (raising :class:`PartialKept`), and a
    kept one is continued (see ``vrestore.resumption``).
    """
    options = options or RestoreOptions()
    if model is not None:
        return _restore(source, destination, options, lambda: model, model.scale, progress)
    return _restore(source, destination, options, lambda: _load_for(options), _scale_of(options.model), progress)


class Restorer:
    """Restores many files with one model, loaded on first use (so a batch loads and downloads it once).

    ``load_failed`` tells a batch driver that the error came from loading the model, which would repeat
    for every file, rather than from the file at hand. ``on_start`` is called with the model once, when the
    first restore has passed its checks and starts decoding (the CLI says which model and weights it runs;
    not earlier, so that a refused run prints only its error). ``download_progress`` receives the
    ``vrestore.weights.download.DownloadProgress`` reports of the checkpoint's download.
    """

    def __init__(
        self,
        options: RestoreOptions | None = None,
        *,
        on_start: Callable[[LoadedModel], None] | None = None,
        download_progress: Callable | None = None,
    ) -> None:
        self.options = options or RestoreOptions()
        self.load_failed = False
        self._on_start = on_start
        self._download_progress = download_progress
        self._model: LoadedModel | None = None

    def fetch_weights(self) -> None:
        """Download the registered checkpoint now unless it is cached (loading checks its hash later).

        A batch calls it before its first file, so that a download shows, and fails, once and up front.
        Nothing to do for ``options.weights`` (a local file) or an unknown id (the restore reports it).
        """
        if self.options.weights is not None or not is_registered(self.options.model):
            return
        spec = get_spec(self.options.model)
        if spec.weights is None:
            return
        from vrestore.weights.store import Store

        store = Store(self.options.cache_dir)
        if not store.all_cached(spec.weights):
            store.fetch_all(spec.weights, progress=self._download_progress, label=spec.id)

    @property
    def model(self) -> LoadedModel:
        """The loaded model (loading it now if needed)."""
        if self._model is None:
            try:
                self._model = _load_for(self.options, self._download_progress)
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
        return _restore(source, destination, self.options, lambda: self.model, scale, progress, self._started)

    def _started(self, model: LoadedModel) -> None:
        if self._on_start is not None:
            self._on_start(model)
            self._on_start = None


def _load_for(options: RestoreOptions, download_progress: Callable | None = None) -> LoadedModel:
    return load_model(
        options.model, weights=options.weights, device=options.device, dtype=options.dtype,
        cache_dir=options.cache_dir, download_progress=download_progress, inputs=options.model_inputs,
    )


def _restore(
    source: str | Path,
    destination: str | Path | None,
    options: RestoreOptions,
    get_model: Callable[[], LoadedModel],
    scale: int,
    progress: Callable[[Progress], None] | None,
    on_start: Callable[[LoadedModel], None] | None = None,
) -> RestoreResult:
    from vrestore.engine.accel import accelerate
    from vrestore.engine.cuts import mark_cuts
    from vrestore.engine.profile import NO_PROFILE, StageProfile
    from vrestore.engine.runner import restore_frames
    from vrestore.engine.smooth import check_strength, smooth_frames
    from vrestore.io.output_check import check_output
    from vrestore.io.probe import probe
    from vrestore.io.reader import open_reader
    from vrestore.io.writer import open_checked
    from vrestore.resumption import Resumption
    from vrestore.stream import FrameCounts, run_stream

    check_strength(options.temporal_smooth)
    _check_pipes(source, destination, options)
    source = Path(source)
    info = probe(source)
    counts = FrameCounts(progress, info.frame_count)
    counts.report()  # the total shows at once, before the model loads and the first frame is written
    dst = Path(destination) if destination is not None else default_output_path(source, info)
    Resumption.check(options, dst)
    target = check_output(dst, info, overwrite=options.overwrite, encode=options.encode,
                          size=(info.width * scale, info.height * scale))
    loaded = get_model()
    resumption = Resumption.begin(options, dst, source, loaded)

    profile = StageProfile(loaded.device) if options.profile else NO_PROFILE
    collector = WarningCollector()
    log.addHandler(collector)
    try:
        # Bad --tile/--clip values fail here, before the output is opened. Sizes are measured before
        # compiling (the memory probe's shapes would otherwise be compiled for nothing).
        plan = resumption.plan(loaded, info)
        if on_start is not None:
            on_start(loaded)
        _check_size(info, loaded)
        accelerate(loaded, compile=options.compile)
        started = time.perf_counter()
        profile.restart()
        inputs_log = InputsLog()
        cuts: list[int] = []

        def marked(frames: Iterable[Frame]) -> Iterator[Frame]:
            # From frame 0 even when resuming: the same frames give the same cuts (engine/cuts.py).
            for frame in mark_cuts(frames, detect=plan.cuts.detect, given=plan.cuts.given):
                if frame.shot_start:
                    cuts.append(frame.index)
                yield frame

        def restored(frames: Iterable[Frame]) -> Iterator[Frame]:
            return smooth_frames(
                restore_frames(frames, loaded, plan=plan, profile=profile,
                               on_progress=lambda frames: counts.computed(resumption.start + frames),
                               on_inputs=inputs_log, on_prepare=counts.preparing),
                options.temporal_smooth,
            )

        with ExitStack() as stack:
            reader = stack.enter_context(open_reader(source, info=info))
            writer = stack.enter_context(open_checked(target, info, overwrite=options.overwrite,
                                                      temp_path=resumption.temp_path))
            resumption.writer_opened()
            transform = resumption.transform(marked, restored, stack)
            counts.started = started
            with resumption.keeping_partial(writer, plan, cuts):
                written = run_stream(reader, transform, writer, queue_size=options.queue_size,
                                     on_frame=counts.written, profile=profile)
        resumption.finish()
    finally:
        log.removeHandler(collector)
    seconds = time.perf_counter() - started
    profile.finish()
    return RestoreResult(
        input=str(source),
        output=str(dst),
        model=plan.model,
        device=plan.device,
        frames=written,
        seconds=seconds,
        width=info.width * loaded.scale,
        height=info.height * loaded.scale,
        warnings=collector.messages,
        profile=profile.report() if options.profile else None,
        sizes=plan.sizes(),
        weights=loaded.weights.to_dict() if loaded.weights is not None else None,
        dtype=plan.dtype,
        inputs=inputs_log.report(loaded.extra),
        cuts=[cut for cut in cuts if cut < written],
    )


def _check_pipes(source: str | Path, destination: str | Path | None, options: RestoreOptions) -> None:
    """UsageError for what cannot work with ``-`` (stdin in, stdout out), before stdin is read."""
    from vrestore.io.stdio import is_stdio

    if is_stdio(source) and destination is None:
        raise UsageError("input '-' reads stdin and has no name to derive an output from; give the output: "
                         "a file, or '-' for stdout")
    if options.resume and (is_stdio(source) or is_stdio(destination)):
        raise UsageError("--resume needs a named input and output file; a pipe ('-') cannot be continued")


def _scale_of(model_id: str) -> int:
    """The model's scale, or 1 when the id is unknown (load_model reports that error properly)."""
    return get_spec(model_id).scale if is_registered(model_id) else 1


def _check_size(info: VideoInfo, model: LoadedModel) -> None:
    need = model.spec.min_size
    if info.width < need or info.height < need:
        log.warning(f"input is {info.width}x{info.height}, smaller than the {need}x{need} model {model.spec.id} "
                    "works on; frames are padded by reflection for the model and cropped back")

