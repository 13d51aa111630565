"""The pre-degraded pool: samples stay a pure function of (seed, index) and cost one degradation per segment."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import vrestore.train.pool as pool_module
from vrestore.errors import UsageError
from vrestore.train.config import DataConfig, config_from_dict
from vrestore.train.data import load_clip
from vrestore.train.pool import PooledSamples


def _config(**values: object) -> DataConfig:
    settings = {"train": ("x",), "frames": 3, "crop": 16, "intervals": (2,), "pool": 3, "pool_reuse": 4, **values}
    return DataConfig(**settings)  # type: ignore[arg-type]


def _as_uint8(clip: torch.Tensor) -> np.ndarray:
    return (clip * 255).round().byte().permute(0, 2, 3, 1).numpy()


def test_pooled_samples_are_a_pure_function_of_seed_and_index(frame_folder):
    clip = load_clip(frame_folder)
    a = PooledSamples([clip], _config(), seed=5, length=40)
    b = PooledSamples([clip], _config(), seed=5, length=40)
    for index in (0, 13, 5, 30, 1):  # jumping between generations rebuilds them identically
        lq, gt = a[index]
        assert lq.shape == gt.shape == (3, 3, 16, 16) and lq.dtype == torch.float32
        assert torch.equal(lq, b[index][0]) and torch.equal(gt, b[index][1])
    assert not torch.equal(a[0][0], a[0][1])  # degraded
    assert not torch.equal(a[0][1], PooledSamples([clip], _config(), seed=6, length=40)[0][1])


def test_one_degradation_per_segment_per_generation(frame_folder, monkeypatch):
    calls = []
    real = pool_module.degrade_clip
    monkeypatch.setattr(pool_module, "degrade_clip", lambda *a, **k: calls.append(1) or real(*a, **k))
    samples = PooledSamples([load_clip(frame_folder)], _config(), seed=0, length=40)
    for index in range(12):  # generation 0: pool 3 x reuse 4
        samples[index]
    assert len(calls) == 3
    samples[12]  # the first sample of generation 1
    assert len(calls) == 6


def test_degraded_and_clean_samples_are_the_same_crop_of_a_segment(frame_folder):
    samples = PooledSamples([load_clip(frame_folder)], _config(), seed=2, length=40)
    segments = samples.segments(0)
    assert all(d.shape == c.shape == (6, 32, 32, 3) for d, c in segments)  # 2 x frames, 2 x crop
    for index in range(12):
        lq, gt = map(_as_uint8, samples[index])
        found = False
        for degraded, clean in segments:
            for flip in _symmetries():
                d, c = flip(degraded), flip(clean)
                for t in range(len(c)):
                    for y in range(c.shape[1] - 15):
                        for x in range(c.shape[2] - 15):
                            if np.array_equal(c[t, y : y + 16, x : x + 16], gt[0]):
                                found = found or np.array_equal(d[t, y : y + 16, x : x + 16], lq[0])
        assert found, f"sample {index} is not a crop of a segment with its degraded twin"


def _symmetries():
    for transpose in (False, True):
        for v in (False, True):
            for h in (False, True):
                def flip(a, transpose=transpose, v=v, h=h):
                    a = a.transpose(0, 2, 1, 3) if transpose else a
                    a = a[:, ::-1] if v else a
                    return a[:, :, ::-1] if h else a
                yield flip


def test_small_clips_give_smaller_segments(frame_folder):
    samples = PooledSamples([load_clip(frame_folder)], _config(crop=40), seed=0, length=8)
    assert samples.segments(0)[0][0].shape == (6, 48, 48, 3)  # the clip's 48 px, not 80
    assert samples[0][0].shape == (3, 3, 40, 40)


def test_pool_settings_are_checked():
    recipe = {"model": "tiny.test", "steps": 2, "data": {"train": ["x"], "pool": -1}}
    with pytest.raises(UsageError, match="data.pool"):
        config_from_dict(recipe)
    recipe["data"] = {"train": ["x"], "pool": 4, "pool_reuse": 0}
    with pytest.raises(UsageError, match="pool_reuse"):
        config_from_dict(recipe)


@pytest.mark.parametrize("pooled", [True, False])
def test_still_samples_repeat_one_frame_each_degraded_on_its_own(frame_folder, pooled):
    from vrestore.train.data import TrainSamples

    clip = load_clip(frame_folder)
    config = _config(still=1.0, ops=("gaussian",), prob=0.0)
    samples = (PooledSamples if pooled else TrainSamples)([clip], config, seed=3, length=40)
    lq, gt = samples[7]
    assert all(torch.equal(gt[0], frame) for frame in gt[1:])  # one clean frame, repeated
    assert not torch.equal(lq[0], lq[1])  # independent noise on each copy
    moving = (PooledSamples if pooled else TrainSamples)([clip], _config(ops=("gaussian",), prob=0.0), seed=3,
                                                         length=40)
    assert not all(torch.equal(moving[7][1][0], frame) for frame in moving[7][1][1:])


def test_still_is_a_probability():
    with pytest.raises(UsageError, match="data.still"):
        config_from_dict({"model": "tiny.test", "steps": 1, "data": {"train": ["x"], "still": 1.5}})


def test_the_input_filter_turns_each_degraded_segment_into_the_model_input(frame_folder):
    clip = load_clip(frame_folder)
    plain = PooledSamples([clip], _config(), seed=3, length=40)
    inverted = PooledSamples([clip], _config(), seed=3, length=40, input_filter=lambda images: 255 - images)
    for (degraded, clean), (filtered, same_clean) in zip(plain.segments(0), inverted.segments(0), strict=True):
        np.testing.assert_array_equal(filtered, 255 - degraded)
        np.testing.assert_array_equal(clean, same_clean)
    lq, gt = plain[7]
    filtered_lq, same_gt = inverted[7]
    assert torch.allclose(filtered_lq, 1 - lq, atol=1e-6) and torch.equal(gt, same_gt)
