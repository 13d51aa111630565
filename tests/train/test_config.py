from __future__ import annotations

import pytest

from vrestore.errors import UsageError
from vrestore.train.config import config_from_dict, load_config


def _recipe(**overrides):
    return {"model": "tiny.test", "steps": 10, "data": {"train": ["clips"]}, **overrides}


def test_defaults_and_types():
    config = config_from_dict(_recipe(betas=[0.9, 0.95], data={"train": "clips", "intervals": [6, 12]}))
    assert config.data.train == ("clips",) and config.data.intervals == (6, 12)
    assert config.betas == (0.9, 0.95) and config.grad_clip == 1.0 and config.bf16 is False


@pytest.mark.parametrize(
    ("recipe", "fragment"),
    [
        (_recipe(stepz=3), "unknown training setting(s) stepz"),
        (_recipe(data={"train": ["c"], "crops": 3}), "data.crops"),
        ({"model": "tiny.test", "data": {"train": ["c"]}}, "lacks steps"),
        (_recipe(steps="many"), "steps = 'many' is not a valid int"),
        (_recipe(steps=0), "steps = 0 must be at least 1"),
        (_recipe(bf16="yes"), "bf16"),
        (_recipe(ema_decay=1.0), "ema_decay"),
        (_recipe(warmup_steps=10), "warmup_steps"),
        (_recipe(data={"train": ["c"], "intervals": [0]}), "data.intervals"),
        ({"model": "tiny.test", "steps": 3}, "'data' mapping"),
        (_recipe(data={"train": ["c"], "ops": ["gaussian", "sharpen"]}), "unknown operator(s) sharpen"),
        (_recipe(data={"train": ["c"], "bitrate_frame_size": [854]}), "data.bitrate_frame_size"),
        (_recipe(data={"train": ["c"], "val_draws": 0}), "data.val_draws"),
    ],
)
def test_bad_recipes_say_what_is_wrong(recipe, fragment):
    with pytest.raises(UsageError, match=None) as info:
        config_from_dict(recipe)
    assert fragment in str(info.value)


def test_paths_are_relative_to_the_recipe(tmp_path):
    path = tmp_path / "sub" / "r.yml"
    path.parent.mkdir()
    path.write_text("model: tiny.test\nsteps: 2\ndata: {train: [clips]}\n", encoding="utf-8")
    config = load_config(path, {"steps": 4})
    assert config.steps == 4
    assert config.resolve("clips") == tmp_path / "sub" / "clips"
    assert config.resolve("/abs/x") == tmp_path.anchor / __import__("pathlib").Path("abs/x")


def test_unreadable_recipes(tmp_path):
    with pytest.raises(UsageError, match="does not exist"):
        load_config(tmp_path / "missing.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("model: [unclosed\n", encoding="utf-8")
    with pytest.raises(UsageError, match="cannot be read"):
        load_config(bad)
