"""``synthesize``: degraded copies of clean videos (TUD protocol, explicit chains, weather), reproducibly.

Same shape as ``api.restore_video``: probe and check the output once, before decoding (the reader and the
writer reuse both), then ``stream.run_stream``: decode thread -> degradation -> encode thread, output renamed
into place only when complete, plus the sidecar
``<output>.synth.json`` (also written under a temporary name and renamed). Never prints; warnings go to
``logging.getLogger("vrestore")`` and into the result.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2

from vrestore.batch import Shard
from vrestore.degrade.ops import WEATHER_OPS
from vrestore.degrade.pipeline import SIDECAR_FORMAT, commit, degrade_stream, sidecar_path, write_sidecar_part
from vrestore.degrade.schedule import SCHEDULES, Schedule
from vrestore.degrade.spec import OpSpec, parse_spec
from vrestore.errors import InputError, OutputError, UsageError
from vrestore.frame import Frame
from vrestore.io.frames import PngFolderWriter
from vrestore.io.info import VIDEO_SUFFIXES
from vrestore.options import TUD_PROB, EncodeOptions
from vrestore.warnings_log import WarningCollector

if TYPE_CHECKING:
    from vrestore.io.info import VideoInfo
    from vrestore.io.output_check import OutputTarget
    from vrestore.io.writer import FrameWriter

log = logging.getLogger("vrestore")

PROTOCOLS: tuple[str, ...] = ("tud", "none")
_LOSSLESS_CODECS = frozenset({"ffv1", "png", "rawvideo", "utvideo", "ffvhuff", "huffyuv"})


@dataclass(frozen=True)
class SynthOptions:
    """Everything ``synthesize`` needs besides the paths.

    ``protocol`` None means "tud" unless ``degrade`` or ``weather`` is given; ``schedule`` None means
    "tud" for the TUD protocol and "fixed" for an explicit chain. ``seed`` None draws a fresh seed (recorded).
    """

    protocol: str | None = None
    schedule: str | None = None
    interval: int = 12
    prob: float = TUD_PROB
    degrade: tuple[str, ...] = ()
    weather: str | None = None
    strength: float = 0.5
    seed: int | None = None
    encode: EncodeOptions = field(default_factory=EncodeOptions)
    keep_ext: bool = False
    overwrite: bool = False
    workers: int = 1
    shard: Shard | None = None  # dataset mode degrades only share K of N of the clips
    queue_size: int = 8


@dataclass(frozen=True)
class SynthResult:
    """What a finished synthesis produced."""

    input: str
    output: str
    sidecar: str
    frames: int
    seconds: float
    seed: int
    protocol: str
    schedule: str
    width: int
    height: int
    warnings: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        """Frames per second over the whole run."""
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the CLI's ``--json`` object)."""
        return {
            "input": self.input, "output": self.output, "sidecar": self.sidecar, "frames": self.frames,
            "seconds": round(self.seconds, 3), "fps": round(self.fps, 3), "seed": self.seed,
            "protocol": self.protocol, "schedule": self.schedule, "width": self.width, "height": self.height,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class _Plan:
    protocol: str
    schedule: str
    chain: list[OpSpec] | None
    weather: OpSpec | None


def resolve_plan(options: SynthOptions) -> _Plan:
    """Validate the protocol/chain/weather options (UsageError) before any file is touched."""
    protocol = options.protocol or ("tud" if not options.degrade and not options.weather else "none")
    if protocol not in PROTOCOLS:
        raise UsageError(f"--protocol {protocol}: unknown; choose one of: {' '.join(PROTOCOLS)}")
    if protocol == "tud" and options.degrade:
        raise UsageError("--protocol tud draws its own degradations; drop --degrade, or use --protocol none with it")
    chain = [parse_spec(text) for text in options.degrade] if protocol == "none" else None
    for spec in chain or ():
        if spec.name in WEATHER_OPS:
            raise UsageError(f"--degrade {spec.name}: weather is added with --weather {spec.name} --strength S")
    weather = None
    if options.weather is not None:
        name = options.weather.lower()
        if name not in WEATHER_OPS:
            raise UsageError(f"--weather {options.weather}: unknown; choose one of: {' '.join(WEATHER_OPS)}")
        if not 0.0 <= options.strength <= 1.0:
            raise UsageError(f"--strength {options.strength}: must be between 0 and 1 (e.g. 0.5)")
        weather = OpSpec(name, {"strength": float(options.strength)})
    if protocol == "none" and not chain and weather is None:
        raise UsageError("nothing to apply: pass --protocol tud, --degrade SPEC or --weather rain|snow|haze")
    schedule = options.schedule or ("tud" if protocol == "tud" else "fixed")
    if schedule not in SCHEDULES:
        raise UsageError(f"--schedule {schedule}: unknown; choose one of: {' '.join(SCHEDULES)}")
    if options.interval < 1:
        raise UsageError(f"--interval {options.interval}: must be at least 1 frame; use e.g. 6, 12 or 24")
    if not 0.0 <= options.prob <= 1.0:
        raise UsageError(f"--prob {options.prob}: must be between 0 and 1 (the TUD default is {TUD_PROB})")
    return _Plan(protocol, schedule, chain, weather)


def output_encoding(destination: Path, encode: EncodeOptions) -> EncodeOptions:
    """Lossless by default (ffv1 in .mkv; x264 lossless 4:4:4 in .mp4/.mov); warns when the output is lossy."""
    from vrestore.io.output_check import is_frame_folder

    if is_frame_folder(destination):
        if encode.codec:
            log.warning("--codec %s is ignored: %s is a folder of PNG frames (lossless)", encode.codec, destination)
        return encode
    suffix = destination.suffix.lower()
    if encode.codec is None:
        if suffix == ".mkv":
            return replace(encode, codec="ffv1")
        if suffix in (".mp4", ".mov"):
            log.warning(
                "%s: lossless RGB does not fit in %s; writing libx264 lossless 4:4:4, whose RGB->YUV rounding "
                "changes pixels by about 1 level; use .mkv or a folder for exact frames", destination, suffix,
            )
            return replace(encode, codec="libx264", crf=0, pix_fmt=encode.pix_fmt or "yuv444p")
        log.warning("%s: %s output is lossy and adds its own artefacts; use .mkv or a folder", destination, suffix)
        return encode
    lossless = encode.codec.lower() in _LOSSLESS_CODECS or (
        encode.codec.lower() in ("libx264", "h264", "x264", "avc") and encode.crf == 0
    )
    if not lossless:
        log.warning(
            "--codec %s is lossy: it adds its own artefacts on top of the synthesized ones (not in the sidecar); "
            "use --codec ffv1 in .mkv or a folder output for exact frames", encode.codec,
        )
    return encode


def synthesize(
    source: str | Path,
    destination: str | Path,
    options: SynthOptions | None = None,
    *,
    clip_key: str = "",
    progress: Callable[[Any], None] | None = None,
) -> SynthResult:
    """Write a degraded copy of ``source`` to ``destination`` and its sidecar ``<destination>.synth.json``.

    ``clip_key`` names the clip inside a dataset (its seed stream depends on it, not on the order of
    clips). The output and the sidecar appear only when complete; the input is never touched.
    """
    from vrestore.io.output_check import check_output, is_frame_folder
    from vrestore.io.probe import probe
    from vrestore.io.reader import open_reader
    from vrestore.stream import FrameCounts, run_stream

    options = options or SynthOptions()
    plan = resolve_plan(options)
    source, dst = Path(source), Path(destination)
    folder = is_frame_folder(destination)
    collector = WarningCollector()
    log.addHandler(collector)
    try:
        info = probe(source)
        encode = output_encoding(dst, options.encode)
        target = check_output(destination, info, overwrite=options.overwrite, encode=encode)
        side = sidecar_path(dst)
        if side.exists() and not options.overwrite:
            raise OutputError(f"sidecar {side} exists; pass --overwrite or choose another output name")
        seed = options.seed if options.seed is not None else secrets.randbits(32)
        schedule = Schedule(
            seed=seed, key=_key(clip_key), size=(info.height, info.width), chain=plan.chain, mode=plan.schedule,
            interval=options.interval, prob=options.prob, frame_count=info.frame_count, weather=plan.weather,
        )
        record: list[dict[str, Any]] = []
        counts = FrameCounts(progress, info.frame_count)
        staged: list[Path] = []  # the sidecar's temporary file, once every frame is written

        def stage_sidecar(written: int) -> None:
            data = _sidecar(source, clip_key, info, plan, options, seed, encode, folder, record)
            staged.append(write_sidecar_part(side, data))

        try:
            with open_reader(source, info=info) as reader, _open_writer(source, target, info, options) as writer:
                written = run_stream(reader, lambda frames: degrade_stream(frames, schedule.plans(), record),
                                     writer, queue_size=options.queue_size, on_frame=counts.written,
                                     before_close=stage_sidecar)
        except BaseException:
            for part in staged:  # the output was not renamed into place: nor is its sidecar
                part.unlink(missing_ok=True)
            raise
        commit(staged[0], side)
        seconds = time.perf_counter() - counts.started
    finally:
        log.removeHandler(collector)
    return SynthResult(
        input=str(source), output=str(dst), sidecar=str(side), frames=written, seconds=seconds, seed=seed,
        protocol=plan.protocol, schedule=plan.schedule, width=info.width, height=info.height,
        warnings=collector.messages,
    )


def _open_writer(source: Path, target: OutputTarget, info: VideoInfo, options: SynthOptions) -> FrameWriter:
    """The writer for a checked output: a PNG folder keeps a frame sequence's names (``_frame_names``)."""
    from vrestore.io.output_check import is_frame_folder
    from vrestore.io.writer import open_checked

    if is_frame_folder(target.destination):
        names = _frame_names(source, options.keep_ext) if info.kind == "frames" else []
        return NamedFrameWriter(Path(target.destination), names, overwrite=options.overwrite)
    return open_checked(target, info, overwrite=options.overwrite)


def _key(clip_key: str) -> int:
    return zlib.crc32(clip_key.encode("utf-8")) if clip_key else 0


def _sidecar(source: Path, clip_key: str, info: Any, plan: _Plan, options: SynthOptions, seed: int,
             encode: EncodeOptions, folder: bool, record: list[dict[str, Any]]) -> dict[str, Any]:
    from vrestore import __version__

    return {
        "tool": "vrestore synth",
        "version": __version__,
        "format": SIDECAR_FORMAT,
        "input": source.name if not clip_key else clip_key,
        "seed": seed,
        "clip_key": clip_key,
        "protocol": plan.protocol,
        "schedule": plan.schedule,
        "interval": options.interval,
        "prob": options.prob if plan.chain is None else None,
        "chain": [s.to_dict() for s in plan.chain] if plan.chain is not None else None,
        "weather": plan.weather.to_dict() if plan.weather is not None else None,
        "width": info.width,
        "height": info.height,
        "frame_count": len(record),
        "output_codec": "png" if folder else encode.codec,
        "frames": record,
    }


def _frame_names(source: Path, keep_ext: bool) -> list[str]:
    """Output names for a frame-sequence input: the input names (as .png unless ``keep_ext``)."""
    from vrestore.io.frames import find_frame_files

    files = find_frame_files(source) or []
    names = [p.name if keep_ext else p.stem + ".png" for p in files]
    if keep_ext and any(p.suffix.lower() in (".jpg", ".jpeg") for p in files):
        log.warning("--keep-ext writes JPEG frames (OpenCV quality 95): lossy, on top of the synthesized degradations")
    if len(set(names)) != len(names):
        log.warning("input frames of %s share names once the extension is changed; writing %%08d.png", source)
        return []
    return names


class NamedFrameWriter(PngFolderWriter):
    """A PNG-folder writer that names frame ``i`` ``names[i]`` (the input's frame names) when given."""

    def __init__(self, destination: Path, names: Sequence[str], *, overwrite: bool = False) -> None:
        super().__init__(destination, overwrite=overwrite)
        self._names = list(names)

    def write(self, frame: Frame) -> None:
        """Write one frame under its input name (PNG, or the input's format with keep_ext)."""
        if frame.index >= len(self._names):
            return super().write(frame)
        name = self._names[frame.index]
        suffix = Path(name).suffix.lower()
        params = [cv2.IMWRITE_PNG_COMPRESSION, 3] if suffix == ".png" else []
        ok, encoded = cv2.imencode(suffix, cv2.cvtColor(frame.image, cv2.COLOR_RGB2BGR), params)
        if not ok:
            raise OutputError(f"could not encode frame {frame.index} as {suffix}; drop --keep-ext")
        target = self.partial / name
        try:
            target.write_bytes(encoded.tobytes())
        except OSError as exc:
            raise OutputError(f"cannot write '{target}' ({exc.strerror}); check free space and permissions") from exc
        self.frames_written += 1


# -- dataset mode -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatasetResult:
    """What a dataset run produced: one result per clip, in clip order."""

    input: str
    output: str
    seed: int
    clips: list[SynthResult]
    seconds: float

    @property
    def frames(self) -> int:
        """Frames written over all clips."""
        return sum(c.frames for c in self.clips)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {"input": self.input, "output": self.output, "seed": self.seed, "frames": self.frames,
                "seconds": round(self.seconds, 3), "clips": [c.to_dict() for c in self.clips],
                "warnings": [w for c in self.clips for w in c.warnings]}


def is_dataset_root(path: str | Path) -> bool:
    """True when ``path`` is a folder holding clips: sub-folders or video files (not just images)."""
    root = Path(path)
    if not root.is_dir():
        return False
    return any(_is_clip_entry(p) for p in root.iterdir())


def _is_clip_entry(path: Path) -> bool:
    if path.name.startswith("."):
        return False
    return path.is_dir() or (path.is_file() and path.suffix.lower() in VIDEO_SUFFIXES)


def dataset_jobs(source_root: Path, dest_root: Path, encode: EncodeOptions) -> list[tuple[str, Path, Path]]:
    """(clip name, input, output) for every clip under ``source_root``, mirrored under ``dest_root``.

    Frame folders keep their folder name; videos keep their name, as ``.mkv`` (lossless) unless
    ``--codec`` is given, then with their own extension.
    """
    from vrestore.io.frames import natural_key

    jobs = []
    for entry in sorted((p for p in source_root.iterdir() if _is_clip_entry(p)), key=natural_key):
        if entry.is_dir():
            jobs.append((entry.name, entry, dest_root / entry.name))
        else:
            name = entry.name if encode.codec else entry.stem + ".mkv"
            jobs.append((entry.name, entry, dest_root / name))
    if not jobs:
        raise InputError(f"input folder '{source_root}' holds no clips (sub-folders of frames or video files)")
    return jobs


def synthesize_dataset(
    source_root: str | Path,
    dest_root: str | Path,
    options: SynthOptions | None = None,
    *,
    on_clip: Callable[[SynthResult], None] | None = None,
) -> DatasetResult:
    """Mirror a folder of clips (frame folders or videos) into ``dest_root`` with the same names, degraded.

    Each clip's randomness comes from the run seed and the clip's name, so results do not depend on
    ``options.workers`` or on the order clips finish in.
    """
    options = options or SynthOptions()
    resolve_plan(options)
    if options.workers < 1:
        raise UsageError(f"--workers {options.workers}: must be at least 1")
    src, dst = Path(source_root), Path(dest_root)
    if not dst.parent.is_dir():
        raise OutputError(f"output folder's parent '{dst.parent}' does not exist; create it first")
    seed = options.seed if options.seed is not None else secrets.randbits(32)
    options = replace(options, seed=seed)
    jobs = dataset_jobs(src, dst, options.encode)
    if options.shard is not None:
        jobs = options.shard.pick(jobs, key=lambda job: job[0])
    dst.mkdir(exist_ok=True)
    started = time.perf_counter()
    results: dict[str, SynthResult] = {}
    if options.workers == 1 or len(jobs) == 1:
        for name, clip_src, clip_dst in jobs:
            results[name] = synthesize(clip_src, clip_dst, options, clip_key=name)
            if on_clip is not None:
                on_clip(results[name])
    else:
        workers = min(options.workers, len(jobs))
        import multiprocessing

        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                                 initializer=_init_worker, initargs=(workers,)) as pool:
            futures = {pool.submit(synthesize, s, d, options, clip_key=n): n for n, s, d in jobs}
            try:
                for future in as_completed(futures):
                    result = future.result()
                    results[futures[future]] = result
                    for message in result.warnings:
                        log.warning("%s: %s", futures[future], message)
                    if on_clip is not None:
                        on_clip(result)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    return DatasetResult(str(src), str(dst), seed, [results[n] for n, _, _ in jobs], time.perf_counter() - started)


def _init_worker(workers: int) -> None:
    """Worker processes: share the cores, and leave warnings to the parent (they come back in results)."""
    import torch

    torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
    logger = logging.getLogger("vrestore")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False

