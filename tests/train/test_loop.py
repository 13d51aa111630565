from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from vrestore.errors import UsageError
from vrestore.models.registry import get_spec
from vrestore.models.spec import Temporal
from vrestore.train.checkpoint import export_weights, load_checkpoint
from vrestore.train.config import load_config
from vrestore.train.data import find_clips, load_clip, validation_pairs
from vrestore.train.loop import Ema, build_model, lr_factor, train, validate
from vrestore.weights.load import load_into, read_merged_state_dict, read_state_dict


def _state(path):
    return load_checkpoint(path)


@pytest.mark.parametrize("pool", [{}, {"pool": 2, "pool_reuse": 2}], ids=["on-the-fly", "pool"])
def test_resume_equals_an_uninterrupted_run(write_recipe, tmp_path, pool):
    # With the pool, 6 steps of 2 samples span three generations of 4 samples, and step 3 starts mid-generation.
    whole = train(load_config(write_recipe("a.yml", output="whole", data=dict(pool))))
    assert whole.finished and whole.step == 6
    part = load_config(write_recipe("b.yml", output="split", data=dict(pool)))
    first = train(part, stop_at=3)
    assert not first.finished and first.step == 3
    second = train(part, resume=True)
    assert second.finished and second.step == 6
    a, b = _state(tmp_path / "whole" / "last.pth"), _state(tmp_path / "split" / "last.pth")
    for key in ("model", "ema"):
        assert a[key].keys() == b[key].keys()
        for name in a[key]:
            assert torch.equal(a[key][name], b[key][name]), f"{key}.{name} differs after resume"
    for sa, sb in zip(a["optimizer"]["state"].values(), b["optimizer"]["state"].values(), strict=True):
        assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert a["scheduler"] == b["scheduler"]


def test_loss_decreases_on_a_tiny_clip(write_recipe, tmp_path):
    config = load_config(write_recipe(steps=40, lr=3e-3, ema_decay=0.0, batch_size=4,
                                      data={"val": [str(tmp_path / "clips")], "intervals": [3], "prob": 0.0,
                                            "val_prob": 0.0}))
    spec, module = build_model(config)
    clips = [load_clip(p, None, config.data.val_frames) for p in find_clips([config.resolve(config.data.val[0])])]
    pairs = validation_pairs(clips, config.data, config.seed)
    before = validate(spec, module, Ema(module, 0.0), pairs, torch.device("cpu"))["psnr"]
    summary = train(config)
    assert summary.validation is not None
    assert summary.validation["psnr"] > before + 0.2
    log = [json.loads(line) for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    losses = [r["loss"] for r in log if "loss" in r]
    assert len(losses) == 40
    assert sum(losses[-10:]) < sum(losses[:10])
    assert all(r["input_loss"] > 0 for r in log if "loss" in r)


def test_existing_run_needs_resume_and_same_recipe(write_recipe):
    config = load_config(write_recipe(steps=2))
    train(config)
    with pytest.raises(UsageError, match="--resume"):
        train(config)
    changed = load_config(write_recipe(steps=2, lr=5e-3))
    with pytest.raises(UsageError, match="changed lr"):
        train(changed, resume=True)


def test_resume_without_checkpoint_is_refused(write_recipe):
    with pytest.raises(UsageError, match="no checkpoint"):
        train(load_config(write_recipe()), resume=True)


def test_export_writes_loadable_ema_weights(write_recipe, tmp_path):
    train(load_config(write_recipe(steps=2)))
    out = tmp_path / "w.pth"
    (exported,) = export_weights(tmp_path / "run" / "last.pth", out, "fp16")
    assert exported.size == out.stat().st_size and len(exported.sha256) == 64
    state = read_state_dict(out)
    assert all(v.dtype == torch.float16 for v in state.values() if v.is_floating_point())
    _, module = build_model(load_config(write_recipe(steps=2)))
    load_into(module, state, str(out))
    ema = load_checkpoint(tmp_path / "run" / "last.pth")["ema"]
    assert all(torch.equal(module.state_dict()[k], ema[k].half().float()) for k in ema)


def test_export_splits_parts_into_files_of_their_own(write_recipe, tmp_path):
    train(load_config(write_recipe(steps=2)))
    main, head = export_weights(tmp_path / "run" / "last.pth", tmp_path / "w.pth", "fp32",
                                {"head.": tmp_path / "head.pth"})
    assert (main.prefix, head.prefix, head.path) == ("", "head.", tmp_path / "head.pth")
    assert set(read_state_dict(head.path)) == {"head.weight", "head.bias"}
    assert not any(k.startswith("head.") for k in read_state_dict(main.path))
    _, module = build_model(load_config(write_recipe(steps=2)))
    load_into(module, read_merged_state_dict([(main.path, "params"), (head.path, "params")]), "both")
    with pytest.raises(UsageError, match="no tensor of .* starts with 'spynet.'"):
        export_weights(tmp_path / "run" / "last.pth", tmp_path / "x.pth", "fp16", {"spynet.": tmp_path / "s.pth"})
    with pytest.raises(UsageError, match="a file of its own"):
        export_weights(tmp_path / "run" / "last.pth", tmp_path / "x.pth", "fp16", {"head.": tmp_path / "x.pth"})


def test_lr_schedule_warms_up_then_decays(write_recipe):
    config = load_config(write_recipe(steps=100, warmup_steps=10, lr=1e-3, min_lr=1e-5))
    factors = [lr_factor(s, config) for s in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[9:], factors[10:], strict=False))
    assert lr_factor(100, config) == pytest.approx(0.01)


def test_frozen_parameters_stay_fixed_and_can_be_thawed_on_resume(write_recipe, tmp_path):
    initial = build_model(load_config(write_recipe(steps=4)))[1].state_dict()  # the seeded start of every run
    frozen = load_config(write_recipe("f.yml", steps=4, freeze=["head"]))
    train(frozen, stop_at=2)
    after = _state(tmp_path / "run" / "last.pth")["model"]
    assert torch.equal(after["head.weight"], initial["head.weight"])
    assert not torch.equal(after["tail.weight"], initial["tail.weight"])
    thawed = load_config(write_recipe("t.yml", steps=4))  # the same run, head no longer frozen
    train(thawed, resume=True)
    assert not torch.equal(_state(tmp_path / "run" / "last.pth")["model"]["head.weight"], initial["head.weight"])


def test_freezing_an_unknown_module_is_refused(write_recipe):
    with pytest.raises(UsageError, match="'spynet' names no parameter"):
        train(load_config(write_recipe(steps=2, freeze=["spynet"])))


def test_a_missing_init_checkpoint_names_init(write_recipe):
    with pytest.raises(UsageError, match="--init/init: checkpoint .*missing.pth' does not exist"):
        build_model(load_config(write_recipe(steps=2, init="missing.pth")))


def test_init_from_a_registered_model_loads_its_weights_and_parts(write_recipe, tmp_path, monkeypatch):
    """`--init pgdenet.wide`: the bundled network and its SpyNet part, so a new machine goes on without runs/."""
    from vrestore.api import load_model

    monkeypatch.setenv("VRESTORE_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("VRESTORE_OFFLINE", "1")
    _, module = build_model(load_config(write_recipe(steps=2, model="pgdenet.wide", init="pgdenet.wide")))
    bundled = load_model("pgdenet.wide", device="cpu", dtype="fp32").module.state_dict()
    assert all(torch.equal(module.state_dict()[k], bundled[k]) for k in ("spynet.basic_module.0.basic_module.0.weight",
                                                                         "conv_last.weight"))


class _TemporalMean(torch.nn.Module):
    """A clip model that uses its neighbours: every output frame is the mean of the clip."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=1, keepdim=True).expand_as(x)


class _FrameByFrame(torch.nn.Module):
    """A clip model that ignores its neighbours (identity)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.clone()


@pytest.mark.parametrize(("network", "uses_neighbours"), [(_TemporalMean, True), (_FrameByFrame, False)])
def test_validation_reports_what_neighbouring_frames_add(network, uses_neighbours):
    spec = dataclasses.replace(get_spec("tiny.test"), temporal=Temporal.CLIP, stateful=False)
    generator = torch.Generator().manual_seed(0)
    clean = torch.rand(1, 3, 16, 16, generator=generator).repeat(8, 1, 1, 1)  # a still scene, 8 frames
    noisy = (clean + 0.1 * torch.randn(clean.shape, generator=generator)).clamp(0, 1)
    module = network()
    scores = validate(spec, module, Ema(module, 0.0), [(noisy, clean)], torch.device("cpu"))
    gain = scores["psnr"] - scores["single_psnr"]
    if uses_neighbours:
        assert gain > 5.0  # the mean of 8 frames: about 9 dB less noise
    else:
        assert gain == 0.0 and scores["psnr"] == pytest.approx(scores["input_psnr"])


def test_validation_of_a_frame_model_has_no_single_frame_score(write_recipe, tmp_path):
    config = load_config(write_recipe(data={"val": [str(tmp_path / "clips")]}))
    spec, module = build_model(config)
    assert spec.temporal is not Temporal.CLIP
    clips = [load_clip(p, None, config.data.val_frames) for p in find_clips([config.resolve(config.data.val[0])])]
    scores = validate(spec, module, Ema(module, 0.0), validation_pairs(clips, config.data, config.seed),
                      torch.device("cpu"))
    assert "single_psnr" not in scores and {"psnr", "ssim", "input_psnr"} <= scores.keys()
