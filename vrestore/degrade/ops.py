"""The degradation operators: how each one draws its parameters and applies them, and one pure function each.

An operator is data (:class:`OpDef`): ``draw(rng, level, size)`` returns JSON-ready parameters (``level``
None = uniform over the protocol range, else 0 = mildest .. 1 = strongest), ``apply(x, params)`` is
deterministic. The public functions (``gaussian_noise(x, rng, sigma=None)`` ...) take a float tensor
(C,H,W or T,C,H,W, RGB, [0,1]) and a ``numpy.random.Generator``, draw what was not given, and apply.
Ranges are those of the TUD protocol (AverNet/PGDENet ``synthesize_datasets.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from vrestore.degrade import blur, compression, noise, weather

Params = dict[str, Any]

#: The seven TUD degradation types, in the official script's order.
TUD_OPS: tuple[str, ...] = ("gaussian", "poisson", "speckle", "jpeg", "video", "blur", "resize")
WEATHER_OPS: tuple[str, ...] = ("rain", "snow", "haze")


@dataclass(frozen=True)
class Param:
    """One parameter a user may set in ``--degrade "op:name=value"``."""

    kind: type
    lo: float | None = None
    hi: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class OpDef:
    """A degradation type: parameter drawing, application and what users may set."""

    name: str
    summary: str
    draw: Callable[[np.random.Generator, float | None, tuple[int, int]], Params]
    apply: Callable[[torch.Tensor, Params], torch.Tensor]
    params: dict[str, Param] = field(default_factory=dict)
    fresh: tuple[str, ...] = ()  # re-drawn every frame even when the rest is held fixed (noise realisations)
    clip: bool = False  # works on a chunk of frames (inter-frame compression)


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**32))


def _uniform(rng: np.random.Generator, lo: float, hi: float, level: float | None) -> float:
    u = rng.random() if level is None else float(level)
    return round(lo + (hi - lo) * u, 4)


def _choice(rng: np.random.Generator, options: tuple[Any, ...], level: float | None) -> Any:
    """A uniform choice, or the option at ``level`` (options ordered mildest first)."""
    if level is None:
        return options[int(rng.integers(len(options)))]
    return options[min(len(options) - 1, int(round(level * (len(options) - 1))))]


def _draw_sigma(rng: np.random.Generator, level: float | None, size: tuple[int, int]) -> Params:
    return {"sigma": _uniform(rng, 10.0, 15.0, level), "seed": _seed(rng)}


def _draw_poisson(rng: np.random.Generator, level: float | None, size: tuple[int, int]) -> Params:
    # 10**alpha photons at full scale: alpha 4 is the mildest, 2 the strongest.
    return {"alpha": _uniform(rng, 4.0, 2.0, level), "seed": _seed(rng)}


def _draw_jpeg(rng: np.random.Generator, level: float | None, size: tuple[int, int]) -> Params:
    return {"quality": int(_choice(rng, (40, 30, 20), level))}


def _draw_video(rng: np.random.Generator, level: float | None, size: tuple[int, int]) -> Params:
    codec = _choice(rng, ("libx264", "h264", "mpeg4"), None if level is None else 0.0)
    codec = "libx264" if codec == "h264" else codec  # 'h264' is libx264 in FFmpeg
    if size[0] % 2 or size[1] % 2:
        codec = "mpeg4"  # 4:2:0 H.264 needs even sizes; the official script switches to mpeg4 too
    if level is None:
        bit_rate = int(rng.integers(10_000, 100_001))
    else:
        bit_rate = int(round(100_000 - 90_000 * level))
    return {"codec": codec, "bit_rate": bit_rate}


def _draw_blur(rng: np.random.Generator, level: float | None, size: tuple[int, int]) -> Params:
    ksize = int(_choice(rng, (3, 5, 7), level))
    # The official weights sum to 0.9; random.choices normalises them, and so do we.
    weights = np.asarray(blur.KERNEL_PROBS) / sum(blur.KERNEL_PROBS)
    kind = blur.KERNEL_TYPES[int(rng.choice(len(blur.KERNEL_TYPES), p=weights))]
    sigma_x = _uniform(rng, 0.2, 3.0, level)
    sigma_y = _uniform(rng, 0.2, 3.0, level)
    rotation = _uniform(rng, -math.pi, math.pi, None)
    beta = _uniform(rng, 0.5, 1.0, None) if rng.random() < 0.5 else _uniform(rng, 1.0, 8.0, None)
    if kind.endswith("iso") and not kind.endswith("aniso"):
        sigma_y, rotation = sigma_x, 0.0
    params: Params = {"kernel": kind, "size": ksize, "sigma_x": sigma_x, "sigma_y": sigma_y, "rotation": rotation}
    if kind.startswith(("generalized", "plateau")):
        params["beta"] = beta
    return params


def _draw_resize(rng: np.random.Generator, level: float | None, size: tuple[int, int]) -> Params:
    if level is None:
        direction = ("up", "down", "keep")[int(rng.choice(3, p=(0.3, 0.4, 0.3)))]
        scale = {"up": _uniform(rng, 1.0, 2.0, None), "down": _uniform(rng, 0.5, 1.0, None), "keep": 1.0}[direction]
    else:
        direction = "keep" if level <= 0 else "down"
        scale = round(1.0 - 0.5 * level, 4)
    return {"direction": direction, "scale": scale, "mode": _choice(rng, blur.RESIZE_MODES, None)}


def _draw_compress(rng: np.random.Generator, level: float | None, size: tuple[int, int]) -> Params:
    return {"codec": "libx264", "crf": int(round(_uniform(rng, 25.0, 40.0, level)))}


def _draw_weather(name: str) -> Callable[[np.random.Generator, float | None, tuple[int, int]], Params]:
    def draw(rng: np.random.Generator, level: float | None, size: tuple[int, int]) -> Params:
        params: Params = {"strength": 0.5 if level is None else round(float(level), 4), "seed": _seed(rng)}
        if name == "rain":
            params.update(angle=_uniform(rng, -20.0, 20.0, None), length=_uniform(rng, 0.04, 0.1, None), t=0)
        elif name == "snow":
            params.update(angle=_uniform(rng, -30.0, 30.0, None), t=0)
        else:
            params["airlight"] = _uniform(rng, 0.75, 0.95, None)
        return params

    return draw


def _blur_apply(x: torch.Tensor, p: Params) -> torch.Tensor:
    k = blur.kernel(p["kernel"], int(p["size"]), p["sigma_x"], p["sigma_y"], p["rotation"], p.get("beta", 1.0))
    return blur.apply_kernel(x, k)


_SIGMA = Param(float, 0.0, 255.0, help="noise sigma on the 0-255 scale (TUD: 10-15)")
_STRENGTH = Param(float, 0.0, 1.0, help="0 (none) .. 1 (strongest)")

OPS: dict[str, OpDef] = {
    op.name: op
    for op in (
        OpDef("gaussian", "additive Gaussian noise", _draw_sigma,
              lambda x, p: noise.gaussian(x, p["sigma"], p["seed"]), {"sigma": _SIGMA}, fresh=("seed",)),
        OpDef("poisson", "Poisson (shot) noise, 10**alpha photons at white", _draw_poisson,
              lambda x, p: noise.poisson(x, p["alpha"], p["seed"]),
              {"alpha": Param(float, 0.5, 8.0, help="log10 photons at white (TUD: 2-4; lower = noisier)")},
              fresh=("seed",)),
        OpDef("speckle", "multiplicative Gaussian noise", _draw_sigma,
              lambda x, p: noise.speckle(x, p["sigma"], p["seed"]), {"sigma": _SIGMA}, fresh=("seed",)),
        OpDef("jpeg", "JPEG compression (OpenCV)", _draw_jpeg, lambda x, p: compression.jpeg(x, p["quality"]),
              {"quality": Param(int, 1, 100, help="JPEG quality (TUD: 20, 30 or 40)")}),
        OpDef("video", "intra-frame video compression at a bit rate", _draw_video,
              lambda x, p: compression.video_intra(x, p["codec"], p["bit_rate"]),
              {"codec": Param(str, choices=("libx264", "mpeg4"), help="encoder"),
               "bit_rate": Param(int, 1_000, 100_000_000, help="bits per frame (TUD: 10000-100000)")}),
        OpDef("blur", "random mixed-kernel blur", _draw_blur, _blur_apply,
              {"kernel": Param(str, choices=blur.KERNEL_TYPES, help="kernel family"),
               "size": Param(int, 1, 51, help="kernel size, odd (TUD: 3, 5 or 7)"),
               "sigma_x": Param(float, 0.05, 20.0, help="kernel sigma along x (TUD: 0.2-3)"),
               "sigma_y": Param(float, 0.05, 20.0, help="kernel sigma along y (TUD: 0.2-3)"),
               "rotation": Param(float, -math.pi, math.pi, help="radians"),
               "beta": Param(float, 0.1, 16.0, help="shape of generalized/plateau kernels (TUD: 0.5-8)")}),
        OpDef("resize", "down/up-scale and back (bicubic)", _draw_resize,
              lambda x, p: blur.resize_blur(x, p["direction"], p["scale"], p["mode"]),
              {"direction": Param(str, choices=("up", "down", "keep"), help="resize direction"),
               "scale": Param(float, 0.05, 8.0, help="scale factor (TUD: up 1-2, down 0.5-1)"),
               "mode": Param(str, choices=blur.RESIZE_MODES, help="first interpolation")}),
        OpDef("compress", "inter-frame video compression of each chunk at a CRF", _draw_compress,
              lambda x, p: compression.video_inter(x, p["codec"], p["crf"]),
              {"codec": Param(str, choices=("libx264", "libx265"), help="encoder"),
               "crf": Param(int, 0, 51, help="constant rate factor (default range 25-40)")}, clip=True),
        OpDef("rain", "rain streaks", _draw_weather("rain"),
              lambda x, p: weather.rain(x, p["strength"], p["seed"], p["angle"], p["length"], p.get("t", 0)),
              {"strength": _STRENGTH, "angle": Param(float, -60.0, 60.0, help="degrees from vertical"),
               "length": Param(float, 0.0, 1.0, help="streak length, fraction of the frame height")}),
        OpDef("snow", "falling snow", _draw_weather("snow"),
              lambda x, p: weather.snow(x, p["strength"], p["seed"], p["angle"], p.get("t", 0)),
              {"strength": _STRENGTH, "angle": Param(float, -60.0, 60.0, help="drift, degrees from vertical")}),
        OpDef("haze", "haze (atmospheric scattering, depth proxy)", _draw_weather("haze"),
              lambda x, p: weather.haze(x, p["strength"], p["seed"], p["airlight"]),
              {"strength": _STRENGTH, "airlight": Param(float, 0.0, 1.0, help="atmospheric light A")}),
    )
}


def draw_params(name: str, rng: np.random.Generator, size: tuple[int, int], level: float | None = None,
                overrides: Params | None = None) -> Params:
    """Parameters for one application of ``name`` on frames of ``size`` (H, W), with ``overrides`` applied."""
    params = OPS[name].draw(rng, level, size)
    params.update(overrides or {})
    if name == "blur" and params["kernel"].startswith(("generalized", "plateau")):
        params.setdefault("beta", 1.0)
    return params


def apply_op(name: str, x: torch.Tensor, params: Params) -> torch.Tensor:
    """Apply ``name`` with fixed ``params`` (deterministic); keeps shape and dtype, range [0,1]."""
    return OPS[name].apply(x, params).to(x.dtype)


def _run(name: str, x: torch.Tensor, rng: np.random.Generator, overrides: dict[str, Any]) -> torch.Tensor:
    given = {k: v for k, v in overrides.items() if v is not None}
    return apply_op(name, x, draw_params(name, rng, tuple(x.shape[-2:]), overrides=given))


def gaussian_noise(x: torch.Tensor, rng: np.random.Generator, *, sigma: float | None = None) -> torch.Tensor:
    """Additive Gaussian noise of ``sigma`` (0-255 scale; drawn from U(10, 15) when None)."""
    return _run("gaussian", x, rng, {"sigma": sigma})


def poisson_noise(x: torch.Tensor, rng: np.random.Generator, *, alpha: float | None = None) -> torch.Tensor:
    """Poisson noise with ``10**alpha`` photons at white (alpha drawn from U(2, 4) when None)."""
    return _run("poisson", x, rng, {"alpha": alpha})


def speckle_noise(x: torch.Tensor, rng: np.random.Generator, *, sigma: float | None = None) -> torch.Tensor:
    """Multiplicative Gaussian noise of ``sigma`` (0-255 scale; U(10, 15) when None)."""
    return _run("speckle", x, rng, {"sigma": sigma})


def jpeg_compression(x: torch.Tensor, rng: np.random.Generator, *, quality: int | None = None) -> torch.Tensor:
    """JPEG round trip at ``quality`` (one of 20, 30, 40 when None)."""
    return _run("jpeg", x, rng, {"quality": quality})


def video_compression(x: torch.Tensor, rng: np.random.Generator, *, codec: str | None = None,
                      bit_rate: int | None = None) -> torch.Tensor:
    """Intra-frame video coding of each frame alone (libx264/mpeg4, 10-100 kbit per frame when None)."""
    return _run("video", x, rng, {"codec": codec, "bit_rate": bit_rate})


def clip_compression(x: torch.Tensor, rng: np.random.Generator, *, codec: str | None = None,
                     crf: int | None = None) -> torch.Tensor:
    """Inter-frame coding of a (T,C,H,W) clip with libx264/libx265 at ``crf`` (25-40 when None)."""
    return _run("compress", x, rng, {"codec": codec, "crf": crf})


def random_blur(x: torch.Tensor, rng: np.random.Generator, **kernel_params: Any) -> torch.Tensor:
    """Blur with a random mixed kernel (iso/aniso/generalized/plateau; TUD probabilities and ranges)."""
    return _run("blur", x, rng, kernel_params)


def resize_blur(x: torch.Tensor, rng: np.random.Generator, *, direction: str | None = None,
                scale: float | None = None, mode: str | None = None) -> torch.Tensor:
    """Resize up (x1-2, p 0.3), down (x0.5-1, p 0.4) or keep (p 0.3) with a random mode, then back bicubic."""
    return _run("resize", x, rng, {"direction": direction, "scale": scale, "mode": mode})


def rain(x: torch.Tensor, rng: np.random.Generator, *, strength: float = 0.5, t: int = 0) -> torch.Tensor:
    """Rain streaks of ``strength`` in [0, 1] at frame ``t``."""
    return _run("rain", x, rng, {"strength": strength, "t": t})


def snow(x: torch.Tensor, rng: np.random.Generator, *, strength: float = 0.5, t: int = 0) -> torch.Tensor:
    """Snow of ``strength`` in [0, 1] at frame ``t``."""
    return _run("snow", x, rng, {"strength": strength, "t": t})


def haze(x: torch.Tensor, rng: np.random.Generator, *, strength: float = 0.5) -> torch.Tensor:
    """Haze of ``strength`` in [0, 1] (scattering model with a depth proxy)."""
    return _run("haze", x, rng, {"strength": strength})
