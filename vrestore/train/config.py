"""Training recipes: a YAML file mapped onto checked dataclasses (unknown keys and bad values are refused)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from vrestore.errors import UsageError
from vrestore.options import TUD_PROB


@dataclass(frozen=True)
class DataConfig:
    """Where clean clips come from and how training samples are cut and degraded.

    ``train``/``val``: frame folders, folders of frame folders, video files or globs (relative paths are
    relative to the recipe file). Every sample is ``frames`` consecutive frames, cropped to ``crop`` pixels
    square, flipped/transposed and time-reversed at random, then degraded on the fly with the TUD protocol;
    the degradation ``interval`` of each sample is drawn from ``intervals``. With probability ``weather``
    a sample also gets rain, snow or haze. ``ops`` limits the operators drawn for training samples (e.g.
    ``[gaussian, poisson, speckle]`` for a first curriculum stage); empty means all TUD operators.
    Validation always uses all TUD operators at interval 12, each kept with probability ``1 - val_prob``
    (the protocol's ``TUD_PROB`` by default), whatever ``ops`` and ``prob`` a curriculum stage trains on;
    ``val_draws`` windows of ``val_frames`` frames per validation clip, each with its own draw of operators.
    ``bitrate_frame_size`` [width, height]: the frame size the protocol's video bit rates are meant for (the
    test clips' 854x480); a training or validation crop then gets the bit rate of its share of the pixels
    (``train.data.at_bitrate_density``). Unset: the bit rates as drawn, whatever the crop size.
    ``pool`` > 0 cuts samples from that many pre-degraded segments, each serving ``pool_reuse`` samples on
    average, instead of degrading every sample (``train.pool`` explains it; 0 = degrade on the fly).
    ``still``: probability that a sample is one frame repeated (a still scene, each copy degraded on its own),
    where the neighbours are perfectly aligned: a diagnostic and curriculum aid for recurrent models.
    """

    train: tuple[str, ...]
    val: tuple[str, ...] = ()
    frames: int = 12
    crop: int = 256
    intervals: tuple[int, ...] = (6, 12, 24)
    prob: float = TUD_PROB
    val_prob: float = TUD_PROB
    weather: float = 0.0
    ops: tuple[str, ...] = ()
    max_side: int | None = None
    val_frames: int = 12
    val_draws: int = 1
    val_crop: int | None = 256
    workers: int = 0
    pool: int = 0
    pool_reuse: int = 16
    bitrate_frame_size: tuple[int, int] | None = None
    still: float = 0.0


@dataclass(frozen=True)
class TrainConfig:
    """One training run: the model, the data, the optimiser and schedule, and the bookkeeping intervals."""

    model: str
    data: DataConfig
    steps: int
    output: str = "runs/train"
    batch_size: int = 1
    lr: float = 2e-4
    min_lr: float = 1e-6
    warmup_steps: int = 0
    weight_decay: float = 1e-4
    betas: tuple[float, float] = (0.9, 0.99)
    grad_clip: float | None = 1.0
    charbonnier_eps: float = 1e-6
    ema_decay: float = 0.999
    bf16: bool = False
    freeze: tuple[str, ...] = ()
    checkpoint_every: int = 500
    val_every: int = 500
    log_every: int = 10
    seed: int = 0
    device: str = "auto"
    init: str | None = None
    source: str = field(default="", compare=False)

    def resolve(self, path: str) -> Path:
        """``path`` relative to the recipe file's folder (absolute paths unchanged)."""
        base = Path(self.source).resolve().parent if self.source else Path.cwd()
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else base / candidate

    def to_dict(self) -> dict[str, Any]:
        """Plain data (for checkpoints and logs)."""
        out = dataclasses.asdict(self)
        out.pop("source")
        return out


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> TrainConfig:
    """Read a training recipe; ``overrides`` (e.g. ``{"steps": 10}``) replace top-level values."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"training recipe '{path}' does not exist; see configs/ for examples") from None
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"training recipe '{path}' cannot be read ({exc}); fix the YAML") from None
    if not isinstance(raw, dict):
        raise UsageError(f"training recipe '{path}' must be a YAML mapping of settings")
    raw = {**raw, **(overrides or {})}
    return config_from_dict(raw, source=str(path))


def config_from_dict(raw: dict[str, Any], source: str = "") -> TrainConfig:
    """Build and check a TrainConfig from plain data (a parsed recipe)."""
    data = raw.get("data")
    if not isinstance(data, dict):
        raise UsageError(f"training recipe {source or ''} needs a 'data' mapping with at least 'train'".strip())
    values = _convert(TrainConfig, {**raw, "data": DataConfig(**_convert(DataConfig, data, "data."))}, "")
    config = TrainConfig(**values, source=source)
    _check(config)
    return config


def _convert(cls: type, raw: dict[str, Any], prefix: str) -> dict[str, Any]:
    hints = get_type_hints(cls)
    known = {f.name for f in fields(cls) if f.name != "source"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise UsageError(f"unknown training setting(s) {', '.join(prefix + k for k in unknown)}; "
                         f"known: {', '.join(sorted(prefix + k for k in known))}")
    missing = [f.name for f in fields(cls) if f.name not in raw and f.name != "source"
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise UsageError(f"training recipe lacks {', '.join(prefix + m for m in missing)}")
    return {name: _coerce(prefix + name, hints[name], value) for name, value in raw.items()}


def _coerce(name: str, hint: Any, value: Any) -> Any:
    text = hint.__name__ if isinstance(hint, type) else str(hint)
    if value is None:
        if "None" in text:
            return None
        raise UsageError(f"training setting {name} must not be empty")
    if isinstance(value, DataConfig):
        return value
    try:
        if text.startswith("tuple[str"):
            return tuple(str(v) for v in ([value] if isinstance(value, str) else value))
        if text.startswith("tuple[int"):
            return tuple(_as_int(v) for v in ([value] if isinstance(value, int) else value))
        if text.startswith("tuple[float"):
            return tuple(float(v) for v in value)
        if text.startswith("bool"):
            if not isinstance(value, bool):
                raise ValueError
            return value
        if text.startswith("int"):
            return _as_int(value)
        if text.startswith("float"):
            return float(value)
        if text.startswith("str"):
            return str(value)
    except (TypeError, ValueError):
        pass
    else:
        raise AssertionError(f"unhandled setting type {hint}")  # a field type this module does not know yet
    raise UsageError(f"training setting {name} = {value!r} is not a valid {text.replace(' | None', '')}")


def _as_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError
    return value


def _check(config: TrainConfig) -> None:
    positive = {"steps": config.steps, "batch_size": config.batch_size, "data.frames": config.data.frames,
                "data.crop": config.data.crop, "checkpoint_every": config.checkpoint_every,
                "val_every": config.val_every, "log_every": config.log_every, "data.val_frames": config.data.val_frames,
                "data.val_draws": config.data.val_draws}
    for name, value in positive.items():
        if value < 1:
            raise UsageError(f"training setting {name} = {value} must be at least 1")
    if not config.data.train:
        raise UsageError("training setting data.train lists no clips; name frame folders, videos or globs")
    size = config.data.bitrate_frame_size
    if size is not None and (len(size) != 2 or min(size) < 1):
        raise UsageError("training setting data.bitrate_frame_size must be [width, height], e.g. [854, 480]")
    if not all(i >= 1 for i in config.data.intervals) or not config.data.intervals:
        raise UsageError("training setting data.intervals must list positive frame counts, e.g. [6, 12, 24]")
    if not all(0.0 <= p <= 1.0 for p in (config.data.weather, config.data.prob, config.data.val_prob,
                                         config.data.still)):
        raise UsageError("training settings data.weather, data.prob, data.val_prob and data.still are "
                         "probabilities between 0 and 1")
    from vrestore.degrade.ops import TUD_OPS

    unknown = sorted(set(config.data.ops) - set(TUD_OPS))
    if unknown:
        raise UsageError(f"training setting data.ops names unknown operator(s) {', '.join(unknown)}; "
                         f"choose from: {' '.join(TUD_OPS)}")
    if not 0.0 <= config.ema_decay < 1.0:
        raise UsageError(f"training setting ema_decay = {config.ema_decay} must be in [0, 1)")
    if config.lr <= 0 or config.min_lr < 0 or config.min_lr > config.lr:
        raise UsageError("training settings need lr > 0 and 0 <= min_lr <= lr")
    if config.warmup_steps < 0 or config.warmup_steps >= config.steps:
        raise UsageError(f"training setting warmup_steps = {config.warmup_steps} must be in [0, steps)")
    if config.data.pool < 0 or config.data.pool_reuse < 1:
        raise UsageError("training settings data.pool (0 = off) and data.pool_reuse (>= 1) are counts")
    if config.data.workers < 0:
        raise UsageError("training setting data.workers must be 0 (load in the main process) or more")
