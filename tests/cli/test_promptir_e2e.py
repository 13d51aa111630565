"""End to end: ``vrestore restore --model promptir.3task`` downloads, pins and strictly loads its checkpoint.

The file is a tiny random PromptIR in the official Lightning layout (``state_dict`` / ``net.`` prefix), served
by the local test server through VRESTORE_WEIGHTS_MIRROR, so the real manifest entry, store and loader run;
only the model constructor is swapped for a small one (the 35.6 M model is slow on a CPU).
"""

from __future__ import annotations

import dataclasses
import io
import json
from urllib.parse import urlsplit

import av
import numpy as np
import pytest
import torch

from tests.models.allinone_golden import one_thread
from tests.weights.fileserver import FileServer, file_server  # noqa: F401  (fixture)
from vrestore.io.frames import find_frame_files, read_image
from vrestore.models import registry
from vrestore.models.promptir.network import PromptIR
from vrestore.models.seeded import fill_seeded
from vrestore.weights.manifest import load_manifest

_one_thread = pytest.fixture(autouse=True)(one_thread)


def _tiny() -> PromptIR:
    return PromptIR(dim=8, num_blocks=(1, 1, 1, 1), refinement_blocks=1)


@pytest.fixture()
def served_promptir(monkeypatch, tmp_path, file_server: FileServer) -> bytes:  # noqa: F811
    state = fill_seeded(_tiny(), 7).state_dict()
    buffer = io.BytesIO()
    torch.save({"epoch": 119, "global_step": 1, "pytorch-lightning_version": "2.0.1",
                "state_dict": {f"net.{k}": v for k, v in state.items()}, "optimizer_states": [], "lr_schedulers": []},
               buffer)
    data = buffer.getvalue()
    file_server.files["/" + urlsplit(load_manifest().entry("promptir.3task").url).path.lstrip("/")] = data
    spec = registry._SPECS["promptir.3task"]
    monkeypatch.setitem(registry._SPECS, spec.id, dataclasses.replace(spec, factory=_tiny))
    monkeypatch.setenv("VRESTORE_WEIGHTS_MIRROR", file_server.url(""))
    monkeypatch.setenv("VRESTORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("VRESTORE_OFFLINE", raising=False)
    return data


def _frames(folder) -> np.ndarray:
    return np.stack([read_image(p) for p in find_frame_files(folder)]).astype(np.int16)


def test_restore_with_the_registered_promptir_checkpoint(run_cli, served_promptir, small_video, tmp_path,
                                                         file_server):  # noqa: F811
    batched, single = tmp_path / "batched", tmp_path / "single"
    result = run_cli("restore", small_video, batched, "--model", "promptir.3task", "--device", "cpu", "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["model"] == "promptir.3task" and report["frames"] == 12
    assert len(file_server.requests) == 1
    pins = list((tmp_path / "cache" / "promptir.3task").glob("pin.json"))
    assert pins, "an unverified entry is pinned at its first download"

    result = run_cli("restore", small_video, single, "--model", "promptir.3task", "--device", "cpu", "--clip", "1",
                     "--quiet")
    assert result.code == 0, result.stderr
    assert len(file_server.requests) == 1  # the second run uses the cache
    a, b = _frames(batched), _frames(single)
    assert a.shape == (12, 48, 64, 3)
    assert np.abs(a - b).max() <= 1  # batching 8 frames per forward == one at a time (up to rounding)
    assert (a == b).mean() > 0.999
    with av.open(str(small_video)) as container:
        source = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(video=0)]).astype(np.int16)
    assert np.abs(a - source).mean() > 1  # the checkpoint's (random) weights did change the frames
