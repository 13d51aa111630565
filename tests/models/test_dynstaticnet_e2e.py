"""DynStaticNet end to end through the CLI: real frames with synthetic rain, then restore."""

from __future__ import annotations

import json
from pathlib import Path

import av
import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers import make_video, run_subprocess
from vrestore.models.dynstaticnet.net import DynStaticNet
from vrestore.models.seeded import default_init

FRAMES = 12  # more than one 10-frame window: the engine overlaps and blends two


def _decode(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        return np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)])


@pytest.fixture()
def rainy(shared_data, tmp_path) -> Path:
    """A 32x32, 12-frame crop of a real DAVIS training sequence with vrestore synth's rain."""
    frames = tmp_path / "clean"
    frames.mkdir()
    for i, path in enumerate(sorted((shared_data / "train" / "davis" / "camel").glob("*.jpg"))[:FRAMES]):
        Image.open(path).crop((330, 140, 362, 172)).save(frames / f"{i:05d}.png")
    out = tmp_path / "rainy.mkv"
    proc = run_subprocess("synth", frames, out, "--weather", "rain", "--protocol", "none", "--seed", "3")
    assert proc.returncode == 0, proc.stderr
    clean = np.stack([np.asarray(Image.open(p)) for p in sorted(frames.glob("*.png"))])
    assert np.abs(_decode(out).astype(int) - clean).mean() > 1  # rain was added
    return out


def _restore(source: Path, output: Path, *args: str) -> dict:
    proc = run_subprocess("restore", source, output, *args, "--json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_restore_rainy_clip_with_the_test_model(rainy, tmp_path):
    report = _restore(rainy, tmp_path / "out.mkv", "--model", "dynstaticnet.test")
    assert report["model"] == "dynstaticnet.test" and report["frames"] == FRAMES
    out = _decode(tmp_path / "out.mkv")
    assert out.shape == (FRAMES, 32, 32, 3)
    assert np.abs(out.astype(int) - _decode(rainy)).mean() > 0.5  # the network did change the clip


@pytest.mark.slow
def test_restore_with_an_official_style_checkpoint(rainy, tmp_path):
    # The official architecture at width 8 (read from the checkpoint), saved the way MMEditing saves it.
    state = default_init(lambda: DynStaticNet(dim=8), 0).state_dict()
    checkpoint = tmp_path / "last.pth"
    torch.save({"meta": {"iter": 1}, "state_dict": {f"generator.{k}": v for k, v in state.items()}
                | {"step_counter": torch.tensor([1.0])}}, checkpoint)
    report = _restore(rainy, tmp_path / "out.mkv", "--model", "dynstaticnet", "--weights", str(checkpoint))
    assert report["model"] == "dynstaticnet.official" and report["frames"] == FRAMES
    assert _decode(tmp_path / "out.mkv").shape == (FRAMES, 32, 32, 3)


def test_official_id_without_weights_says_how_to_get_them(tmp_path):
    source = make_video(tmp_path / "in.mp4", frames=2)
    proc = run_subprocess("restore", source, tmp_path / "out.mkv", "--model", "dynstaticnet")
    assert proc.returncode == 5
    assert "--weights" in proc.stderr and "Traceback" not in proc.stderr
