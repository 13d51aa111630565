"""The recipes shipped in configs/ stay valid: they parse, name a registered model, and freeze only its parts."""

from __future__ import annotations

from pathlib import Path

import pytest

from vrestore.models.registry import get_spec
from vrestore.train.config import load_config
from vrestore.train.loop import freeze

RECIPES = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yml"))


def test_there_are_recipes():
    assert len(RECIPES) >= 5


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda path: path.name)
def test_recipe_parses_and_its_frozen_parts_exist(recipe):
    config = load_config(recipe)
    module = get_spec(config.model).factory()
    freeze(module, config.freeze)  # a UsageError when a prefix names no parameter
    assert config.data.train and config.steps > 0
