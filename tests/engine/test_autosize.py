"""Tile and clip chosen from (simulated) free GPU memory with a measured memory law; given values kept."""

from __future__ import annotations

import random

import pytest
import torch

from vrestore.engine.autosize import (
    CPU_MAX_WINDOW_FACTOR,
    CPU_WINDOW_FACTOR,
    CPU_WINDOW_RAM_SHARE,
    SAFETY,
    SMALL_TILE,
    MemoryModel,
    choose_sizes,
    fit_memory,
)
from vrestore.engine.chunking import ClipSettings, resolve_clip
from vrestore.models import build, get_spec
from vrestore.models.loaded import LoadedModel
from vrestore.models.spec import Temporal
from vrestore.options import ClipOptions, TileOptions

from .toy_models import ConvNet, Identity, make_model

MIB = 2**20
LAW = MemoryModel(fixed=300 * MIB, per_sample=4000.0)  # a heavy video model: ~4 KB per pixel-frame


def measure_law(law: MemoryModel, calls: list | None = None):
    def measure(frames: int, height: int, width: int) -> float:
        if calls is not None:
            calls.append((frames, height, width))
        return law.peak(frames, height, width)

    return measure


def clip_model(**fields) -> LoadedModel:
    return make_model(Identity(), temporal=Temporal.CLIP, temporal_radius=1, **fields)


def test_fit_recovers_a_linear_law() -> None:
    calls: list = []
    fitted = fit_memory(clip_model(multiple_of=8), 16, measure_law(LAW, calls))
    assert fitted.fixed == pytest.approx(LAW.fixed) and fitted.per_sample == pytest.approx(LAW.per_sample)
    assert len(calls) == 2 and all(t == 4 and h % 8 == 0 and h == w for t, h, w in calls)


def test_cpu_uses_the_whole_frame_and_longer_unshifted_windows() -> None:
    choice = choose_sizes(clip_model(), 1080, 1920, TileOptions(), ClipOptions())
    assert choice.how == "cpu" and choice.tile.size == 0
    assert choice.clip == ClipSettings(16 * CPU_WINDOW_FACTOR, 2, shift_last=False)


def test_cpu_keeps_a_given_clip_length_and_models_without_overlap() -> None:
    given = choose_sizes(clip_model(), 360, 640, TileOptions(), ClipOptions(length=8))
    assert given.clip == ClipSettings(8, 2)
    image = choose_sizes(make_model(Identity()), 360, 640, TileOptions(), ClipOptions())
    assert image.clip.overlap == 0 and not image.clip.shift_last


GIB = 2**30


@pytest.mark.parametrize("frames", [13, 96, 241, 280, 1000, 9999])
def test_cpu_windows_recompute_at_most_an_eighth(frames: int) -> None:
    # pgdenet.tud's shortest windows on the CPU (little RAM): 96 frames overlapping by 12; the default (48, last
    # window shifted) recomputes about a third. Every frame is still produced exactly once.
    spec = get_spec("pgdenet.tud")
    model = LoadedModel(spec, torch.nn.Identity())
    cpu = choose_sizes(model, 360, 640, TileOptions(), ClipOptions(), ram_bytes=2 * GIB).clip
    assert (cpu.length, cpu.overlap, cpu.shift_last) == (96, 12, False)
    windows = cpu.plan(frames)
    computed = sum(w.fed for w in windows)
    assert computed <= frames * 8 / 7 + 1e-9
    kept = [i for w in windows for i in range(w.keep_start, w.keep_stop)]
    assert kept == list(range(frames))
    default = resolve_clip(spec, ClipOptions())
    if frames == 280:
        assert sum(w.fed for w in default.plan(frames)) == 382 and computed == 316


def test_cpu_windows_grow_into_the_ram() -> None:
    # 24 GB: a 280-frame 640x360 clip is one window (nothing recomputed); 1080p frames keep shorter ones.
    model = LoadedModel(get_spec("pgdenet.tud"), torch.nn.Identity())
    sd = choose_sizes(model, 360, 640, TileOptions(), ClipOptions(), ram_bytes=24 * GIB).clip
    assert sd.length >= 280 and sd.length % 6 == 0 and not sd.shift_last
    assert sum(w.fed for w in sd.plan(280)) == 280
    hd = choose_sizes(model, 1080, 1920, TileOptions(), ClipOptions(), ram_bytes=24 * GIB).clip
    assert 96 <= hd.length < sd.length


def test_cpu_windows_without_a_memory_figure_or_ram_stay_shortest() -> None:
    spec = get_spec("pgdenet.tud")
    unknown_ram = choose_sizes(LoadedModel(spec, torch.nn.Identity()), 360, 640, TileOptions(), ClipOptions(),
                               ram_bytes=0)
    assert unknown_ram.clip.length == CPU_WINDOW_FACTOR * 48
    no_figure = choose_sizes(clip_model(), 360, 640, TileOptions(), ClipOptions(), ram_bytes=1000 * GIB)
    assert no_figure.clip.length == CPU_WINDOW_FACTOR * 16


def test_cpu_window_length_sweep() -> None:
    # Between the shortest and longest factor, a multiple of the key-frame interval, within the RAM share
    # unless it is the shortest, and never shorter than a longer RAM would give.
    rng = random.Random(5)
    for _ in range(300):
        per_pixel = rng.uniform(10, 400)
        k = rng.choice([None, 2, 6, 7])
        model = clip_model(cpu_window_bytes=per_pixel, uses_keyframes=k is not None, keyframe_interval=k)
        height, width = rng.randint(64, 2160), rng.randint(64, 3840)
        ram = rng.uniform(0.5, 256) * GIB
        choice = choose_sizes(model, height, width, TileOptions(), ClipOptions(), ram_bytes=ram).clip
        default = resolve_clip(model.spec, ClipOptions()).length
        assert CPU_WINDOW_FACTOR * default <= choice.length <= CPU_MAX_WINDOW_FACTOR * default
        assert k is None or choice.length % k == 0
        fits = choice.length * per_pixel * height * width <= CPU_WINDOW_RAM_SHARE * ram
        assert fits or choice.length == CPU_WINDOW_FACTOR * default
        more = choose_sizes(model, height, width, TileOptions(), ClipOptions(), ram_bytes=2 * ram).clip
        assert more.length >= choice.length


@pytest.mark.parametrize(
    ("default_tile", "height", "width", "expected"),
    [(512, 360, 640, 0), (512, 512, 512, 0), (512, 720, 1280, 512), (720, 720, 720, 0), (720, 720, 1280, 720),
     (None, 2160, 3840, 0)],
)
def test_cpu_whole_frame_up_to_the_default_tile_area(default_tile, height, width, expected) -> None:
    # A 640x360 frame has fewer pixels than one 512 tile: tiling it would only add seams and work.
    choice = choose_sizes(clip_model(default_tile=default_tile), height, width, TileOptions(), ClipOptions())
    assert choice.how == "cpu" and choice.tile.size == expected


def test_given_tile_is_kept_and_nothing_is_measured() -> None:
    def measure(*args):
        raise AssertionError("must not probe")

    choice = choose_sizes(clip_model(), 1080, 1920, TileOptions(size=256), ClipOptions(length=8), measure=measure)
    assert choice.how == "given" and choice.tile.size == 256 and choice.clip.length == 8


def test_whole_frame_when_it_fits() -> None:
    choice = choose_sizes(clip_model(), 360, 640, TileOptions(), ClipOptions(), free_bytes=80 * 2**30,
                          measure=measure_law(LAW))
    assert choice.how == "measured" and choice.tile.size == 0 and choice.clip.length == 16
    assert "MiB per megapixel-frame" in choice.note


@pytest.mark.parametrize("free_gib", [6, 12, 40])
def test_largest_tile_that_fits(free_gib: int) -> None:
    model = clip_model(multiple_of=8)
    budget = SAFETY * free_gib * 2**30
    choice = choose_sizes(model, 1080, 1920, TileOptions(overlap=16), ClipOptions(), free_bytes=free_gib * 2**30,
                          measure=measure_law(LAW))
    tile, frames = choice.tile.size, choice.clip.length
    assert tile and tile >= SMALL_TILE and frames == 16
    fed = tile + 16
    assert LAW.peak(frames, fed, fed) <= budget  # fits ...
    bigger = fed + 8
    engine = frames * 1080 * 1920 * 12 * 3
    assert LAW.peak(frames, bigger, bigger) + engine > budget  # ... and is the largest that does


def test_short_of_memory_the_clip_is_shortened() -> None:
    choice = choose_sizes(clip_model(), 1080, 1920, TileOptions(), ClipOptions(), free_bytes=2 * 2**30,
                          measure=measure_law(LAW))
    assert choice.clip.length < 16 and choice.tile.size >= SMALL_TILE


def test_a_given_clip_is_not_shortened() -> None:
    choice = choose_sizes(clip_model(), 1080, 1920, TileOptions(), ClipOptions(length=16), free_bytes=2 * 2**30,
                          measure=measure_law(LAW))
    assert choice.clip.length == 16 and 64 <= choice.tile.size < SMALL_TILE


def test_per_frame_model_batch_follows_memory() -> None:
    model = make_model(ConvNet(), temporal=Temporal.NONE)
    choice = choose_sizes(model, 720, 1280, TileOptions(), ClipOptions(), free_bytes=80 * 2**30,
                          measure=measure_law(MemoryModel(10 * MIB, 50.0)))
    assert choice.tile.size == 0 and choice.clip.length == 8


def test_probe_out_of_memory_gives_the_smallest_tile() -> None:
    def measure(*args):
        raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 MiB")

    choice = choose_sizes(clip_model(), 1080, 1920, TileOptions(overlap=16), ClipOptions(), free_bytes=2**20,
                          measure=measure)
    assert choice.tile.size == 64 and "ran out of memory" in choice.note


def test_other_probe_errors_are_not_hidden() -> None:
    def measure(*args):
        raise ValueError("model needs 5 frames")

    with pytest.raises(ValueError, match="needs 5 frames"):
        choose_sizes(clip_model(), 1080, 1920, TileOptions(), ClipOptions(), free_bytes=2**30, measure=measure)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_real_probe_on_cuda() -> None:
    spec = get_spec("tiny.test")
    model = LoadedModel(spec, build(spec), device="cuda")
    choice = choose_sizes(model, 2160, 3840, TileOptions(), ClipOptions())
    assert choice.how == "measured" and "MiB free" in choice.note
