"""PromptIR: parity with the official implementation, registration, Lightning checkpoint loading."""

from __future__ import annotations

import pytest
import torch

from tests.models.allinone_golden import key_shapes, load_golden, one_thread, run_seeded
from vrestore.api import load_model
from vrestore.models import get_spec
from vrestore.models.promptir.network import PromptIR
from vrestore.weights.manifest import load_manifest

_one_thread = pytest.fixture(autouse=True)(one_thread)


def test_state_dict_layout_matches_the_official_constructor():
    assert key_shapes(PromptIR()) == dict(load_golden()["keys"]["promptir"])


def test_parameter_count():
    assert sum(p.numel() for p in PromptIR().parameters()) == 35_592_263


def test_output_matches_the_official_code_on_a_real_crop():
    golden = load_golden()
    torch.manual_seed(0)
    ours = run_seeded(PromptIR(), golden["input"], golden["seed"])
    assert ours.shape == golden["promptir"].shape
    assert (ours - golden["promptir"]).abs().max().item() <= 1e-4


def test_registered_3task_names_its_manifest_entry():
    spec = get_spec("promptir")
    assert spec.id == "promptir.3task"
    assert spec.multiple_of == 8
    entry = load_manifest().entry("promptir.3task")
    assert entry.state_key == "state_dict"
    assert entry.url == "https://github.com/va1shn9v/PromptIR/releases/download/v1.0/model.ckpt"


def test_tiny_variant_keeps_the_frame_size_and_is_deterministic():
    a = load_model("promptir.test", device="cpu").module
    b = load_model("promptir.test", device="cpu").module
    x = torch.rand(2, 3, 24, 40)
    with torch.no_grad():
        ya, yb = a(x), b(x)
    assert ya.shape == x.shape
    assert torch.equal(ya, yb)
    assert not torch.allclose(ya, x)


def test_lightning_checkpoint_with_net_prefix_loads_strictly(tmp_path):
    tiny = load_model("promptir.test", device="cpu").module
    state = {f"net.{k}": v + 0.5 for k, v in tiny.state_dict().items()}
    path = tmp_path / "model.ckpt"
    torch.save({"epoch": 3, "global_step": 10, "state_dict": state, "optimizer_states": [{}]}, path)
    loaded = load_model("promptir.test", weights=path, device="cpu").module
    assert torch.equal(loaded.state_dict()["output.weight"], state["net.output.weight"])


@pytest.mark.parametrize("model_id", ["promptir.test", "dynet.test", "dppd.test"])
def test_engine_pads_odd_sizes_and_tiles_per_frame_models(model_id):
    from fractions import Fraction

    import numpy as np

    from vrestore.engine.runner import restore_frames
    from vrestore.frame import Frame
    from vrestore.options import ClipOptions, TileOptions

    model = load_model(model_id, device="cpu")
    rng = np.random.default_rng(1)
    frames = [Frame(rng.integers(0, 256, (37, 45, 3), dtype=np.uint8), pts=i, time_base=Fraction(1, 24), index=i)
              for i in range(3)]
    whole = list(restore_frames(frames, model, TileOptions(), ClipOptions(2)))
    tiled = list(restore_frames(frames, model, TileOptions(24, 8, min_size=16), ClipOptions(2)))
    for out in (whole, tiled):
        assert [f.index for f in out] == [0, 1, 2]
        assert all(f.image.shape == (37, 45, 3) and f.image.dtype == np.uint8 for f in out)
