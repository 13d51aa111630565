from __future__ import annotations

import numpy as np
import pytest
import torch

from vrestore.errors import UsageError
from vrestore.train.config import DataConfig
from vrestore.train.data import TrainSamples, degrade_clip, find_clips, load_clip, pick_frames, validation_pairs


def test_find_and_load_a_frame_folder(frame_folder):
    clips = find_clips([frame_folder.parent])
    assert clips == [frame_folder]
    clip = load_clip(frame_folder, max_side=24)
    assert clip.shape == (8, 24, 24, 3) and clip.dtype == np.uint8


def test_missing_clips_are_a_usage_error(tmp_path):
    with pytest.raises(UsageError, match="do not exist"):
        find_clips([tmp_path / "nope"])
    with pytest.raises(UsageError, match="match nothing"):
        find_clips([str(tmp_path / "*.mp4")])


def test_samples_are_a_pure_function_of_seed_and_index(frame_folder):
    clip = load_clip(frame_folder)
    config = DataConfig(train=("x",), frames=3, crop=32, intervals=(2,))
    a = TrainSamples([clip], config, seed=5, length=10)
    b = TrainSamples([clip], config, seed=5, length=10)
    lq, gt = a[3]
    assert lq.shape == gt.shape == (3, 3, 32, 32) and lq.dtype == torch.float32
    assert torch.equal(lq, b[3][0]) and torch.equal(gt, b[3][1])
    assert not torch.equal(gt, a[4][1]) or not torch.equal(lq, a[4][0])
    assert not torch.equal(lq, gt)  # degraded


def test_samples_are_cut_from_the_clean_clip(frame_folder):
    clip = load_clip(frame_folder)
    config = DataConfig(train=("x",), frames=2, crop=48, intervals=(2,))
    gt = (TrainSamples([clip], config, seed=1, length=4)[0][1] * 255).round().byte().permute(0, 2, 3, 1).numpy()
    # A full-size crop is one of the clip's frames up to flips and transposition.
    symmetric = [v for image in clip for t in (image, image.transpose(1, 0, 2))
                 for v in (t, t[::-1], t[:, ::-1], t[::-1, ::-1])]
    assert any(np.array_equal(gt[0], v) for v in symmetric)


def test_short_clips_bounce_and_reverse():
    rng = np.random.default_rng(0)
    seen = {tuple(pick_frames(3, 6, rng)) for _ in range(20)}
    assert seen <= {(0, 1, 2, 1, 0, 1), (1, 0, 1, 2, 1, 0)}
    assert len(seen) == 2


def test_crop_larger_than_every_clip_is_refused(frame_folder):
    with pytest.raises(UsageError, match="lower data.crop"):
        TrainSamples([load_clip(frame_folder)], DataConfig(train=("x",), crop=64), seed=0, length=1)


def test_validation_pairs_are_fixed(frame_folder):
    clip = load_clip(frame_folder)
    config = DataConfig(train=("x",), val_frames=4, val_crop=40)
    first, second = validation_pairs([clip], config, 0), validation_pairs([clip], config, 0)
    assert first[0][0].shape == (4, 3, 40, 40)
    assert torch.equal(first[0][0], second[0][0])



def test_validation_draws_add_windows_and_keep_the_first(frame_folder):
    clip = load_clip(frame_folder)
    one = validation_pairs([clip], DataConfig(train=("x",), val_frames=2, val_crop=40), 0)
    three = validation_pairs([clip], DataConfig(train=("x",), val_frames=2, val_crop=40, val_draws=3), 0)
    assert len(one) == 1 and len(three) == 3
    assert torch.equal(one[0][0], three[0][0]) and torch.equal(one[0][1], three[0][1])  # draw 0 as before
    assert not torch.equal(three[0][1], three[1][1])  # the next window of frames
    assert len({bytes((lq - gt).numpy()) for lq, gt in three}) == 3  # each its own degradation

def test_ops_limit_the_degradations_of_training_samples(frame_folder, monkeypatch):
    import vrestore.train.data as data

    pools = []
    real_schedule = data.Schedule

    def recording(**kwargs):
        pools.append(kwargs.get("pool"))
        return real_schedule(**kwargs)

    monkeypatch.setattr(data, "Schedule", recording)
    clip = load_clip(frame_folder)
    noise_only = DataConfig(train=("x",), frames=2, crop=32, intervals=(2,), ops=("gaussian",), prob=0.0)
    lq, gt = TrainSamples([clip], noise_only, seed=1, length=4)[0]
    assert pools == [("gaussian",)]
    residual = (lq - gt).flatten()
    assert 0.01 < float(residual.std()) and abs(float(residual.mean())) < 0.01  # zero-mean noise, nothing else
    TrainSamples([clip], DataConfig(train=("x",), frames=2, crop=32, intervals=(2,)), seed=1, length=4)[0]
    assert pools[-1] is None  # no ops: the full TUD pool


def test_validation_keeps_the_tud_protocol_whatever_the_training_stage_draws(frame_folder):
    clip = load_clip(frame_folder)
    full = DataConfig(train=("x",), val_frames=4, val_crop=40)
    stage = DataConfig(train=("x",), val_frames=4, val_crop=40, ops=("gaussian",), prob=0.0)
    assert torch.equal(validation_pairs([clip], full, 0)[0][0], validation_pairs([clip], stage, 0)[0][0])
    clean = DataConfig(train=("x",), val_frames=4, val_crop=40, val_prob=1.0)  # every operator dropped
    degraded, reference = validation_pairs([clip], clean, 0)[0]
    assert torch.equal(degraded, reference)


def test_bitrate_density_scales_only_video_rates():
    from vrestore.degrade.schedule import FramePlan, Step
    from vrestore.train.data import at_bitrate_density

    plan = FramePlan(0, 0, (Step("gaussian", {"sigma": 10.0}), Step("video", {"codec": "mpeg4", "bit_rate": 50_000})))
    scaled = at_bitrate_density(plan, 272 * 272 / (854 * 480))
    assert scaled.steps[0] == plan.steps[0]
    assert scaled.steps[1].params == {"codec": "mpeg4", "bit_rate": 9_024}  # 50 kbit x 73984/409920
    assert at_bitrate_density(plan, 1e-6).steps[1].params["bit_rate"] == 1_000  # the operator's floor


def test_bitrate_frame_size_makes_training_crops_as_coarse_as_full_frames(frame_folder):
    clip = load_clip(frame_folder)[:2, :64, :64]
    rng = lambda: np.random.default_rng(5)  # noqa: E731
    video_only = {"interval": 2, "prob": 0.0, "ops": ("video",)}
    as_drawn = degrade_clip(clip, rng(), **video_only)
    full_frame = degrade_clip(clip, rng(), **video_only, bitrate_frame_size=(854, 480))
    error = lambda x: float(np.abs(x.astype(float) - clip).mean())  # noqa: E731
    assert error(full_frame) > error(as_drawn)


def test_the_input_filter_applies_to_on_the_fly_samples_and_validation(frame_folder):
    clip = load_clip(frame_folder)
    config = DataConfig(train=("x",), frames=3, crop=32, intervals=(2,), val_frames=4, val_crop=40)
    invert = lambda images: 255 - images  # noqa: E731
    lq, gt = TrainSamples([clip], config, seed=1, length=4)[2]
    filtered_lq, same_gt = TrainSamples([clip], config, seed=1, length=4, input_filter=invert)[2]
    assert torch.allclose(filtered_lq, 1 - lq, atol=1e-6) and torch.equal(gt, same_gt)
    (val_lq, val_gt), = validation_pairs([clip], config, 0)
    (filtered_val, same_val_gt), = validation_pairs([clip], config, 0, invert)
    assert torch.allclose(filtered_val, 1 - val_lq, atol=1e-6) and torch.equal(val_gt, same_val_gt)
