"""Our RVRT's state-dict keys and shapes equal the official constructor's (lists made by scripts/rvrt_reference.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from vrestore.models.rvrt.net import DEBLUR, DENOISE, RVRT, SR

DATA = Path(__file__).parent / "data"
CONFIGS = {
    "sr-reds-x4": SR, "sr-vimeo-bi-x4": SR, "sr-vimeo-bd-x4": SR,
    "deblur-dvd": DEBLUR, "deblur-gopro": DEBLUR, "denoise-davis": DENOISE,
}
_built: dict = {}


@pytest.mark.parametrize("task", sorted(CONFIGS))
def test_keys_and_shapes_match_the_official_constructor(task):
    config = CONFIGS[task]
    if config not in _built:
        _built[config] = [f"{k} {tuple(v.shape)}" for k, v in RVRT(config).state_dict().items()]
    expected = (DATA / f"keys_{task}.txt").read_text().splitlines()
    assert _built[config] == expected
