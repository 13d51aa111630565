"""load_model fetches a spec's checkpoint through the store; unsafe or unfit checkpoints are refused."""

from __future__ import annotations

import io
import pathlib

import pytest
import torch

from tests.weights.fileserver import FileServer, manifest_for
from vrestore.api import load_model
from vrestore.errors import WeightsError
from vrestore.models import registry
from vrestore.models.spec import ModelSpec
from vrestore.models.tiny import TinyResidualNet

MODEL = "tinyw.test"
KEY = "tinyw.test"
PATH = "/tinyw.pth"


def _bytes(obj: object) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _trained_state() -> dict[str, torch.Tensor]:
    state = TinyResidualNet().state_dict()
    return {k: v + 1.0 for k, v in state.items()}  # distinguishable from the seeded init


@pytest.fixture()
def weighted_model(monkeypatch, tmp_path, file_server: FileServer):
    """Register ``tinyw.test`` (needs checkpoint ``tinyw.test``) and point the packaged manifest at the server."""
    spec = ModelSpec(id=MODEL, factory=TinyResidualNet, task="denoise", weights=KEY)
    monkeypatch.setitem(registry._SPECS, MODEL, spec)

    def serve(obj: object, **extra: object) -> bytes:
        data = _bytes(obj)
        file_server.files[PATH] = data
        manifest = manifest_for(KEY, file_server.url(PATH), data, **extra)
        monkeypatch.setattr("vrestore.weights.store.load_manifest", lambda: manifest)
        monkeypatch.setattr("vrestore.weights.manifest.load_manifest", lambda: manifest)
        return data

    monkeypatch.setenv("VRESTORE_CACHE_DIR", str(tmp_path / "env-cache"))
    monkeypatch.delenv("VRESTORE_OFFLINE", raising=False)
    monkeypatch.delenv("VRESTORE_WEIGHTS_MIRROR", raising=False)
    return serve


def test_load_model_downloads_and_loads_with_the_state_key(weighted_model, tmp_path, file_server):
    trained = _trained_state()
    weighted_model({"params": trained, "params_ema": TinyResidualNet().state_dict()}, state_key="params")
    model = load_model(MODEL, device="cpu", cache_dir=tmp_path / "cache")
    got = model.module.state_dict()
    assert all(torch.equal(got[k], trained[k]) for k in trained)
    assert list((tmp_path / "cache" / KEY).glob("*.pth"))
    assert not (tmp_path / "env-cache").exists()
    load_model(MODEL, device="cpu", cache_dir=tmp_path / "cache")
    assert len(file_server.requests) == 1  # second load: cache hit


def test_load_model_uses_the_environment_cache(weighted_model, tmp_path):
    weighted_model(_trained_state())
    load_model(MODEL, device="cpu")
    assert list((tmp_path / "env-cache" / KEY).glob("*.pth"))


def test_checkpoint_that_does_not_fit_is_refused(weighted_model, tmp_path):
    state = _trained_state()
    state["head.weight"] = torch.zeros(4, 3, 3, 3)
    weighted_model(state)
    with pytest.raises(WeightsError, match=r"does not fit this model: .*head.weight"):
        load_model(MODEL, device="cpu", cache_dir=tmp_path)


class _Payload:
    """Unpickling this would create a marker file: proof that code ran."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_checkpoint_with_pickled_objects_is_refused(weighted_model, tmp_path):
    marker = tmp_path / "code-ran"
    weighted_model({"params": _trained_state(), "extra": _Payload(marker)})
    with pytest.raises(WeightsError, match="holds Python objects besides tensors .*if you trust its source"):
        load_model(MODEL, device="cpu", cache_dir=tmp_path / "cache")
    assert not marker.exists()


def test_local_weights_file_needs_no_store(weighted_model, tmp_path, file_server, monkeypatch):
    monkeypatch.setenv("VRESTORE_OFFLINE", "1")
    path = tmp_path / "mine.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in _trained_state().items()}}, path)
    weighted_model(_trained_state())
    load_model(MODEL, device="cpu", weights=path)
    assert file_server.requests == []


def _two_file_manifest(file_server: FileServer, main: bytes, part: bytes, *, sha_of_part: str | None = None) -> object:
    from tests.weights.fileserver import sha
    from vrestore.weights.manifest import parse_manifest

    file_server.files[PATH] = main
    file_server.files["/tinyw-tail.pth"] = part
    text = (f'["{KEY}"]\nurl = "{file_server.url(PATH)}"\nsha256 = "{sha(main)}"\nsize = {len(main)}\n'
            f'license = "MIT"\nsource = "test"\nparts = ["tinyw.tail"]\n'
            f'["tinyw.tail"]\nurl = "{file_server.url("/tinyw-tail.pth")}"\n'
            f'sha256 = "{sha_of_part or sha(part)}"\nsize = {len(part)}\nlicense = "MIT"\nsource = "test"\n')
    return parse_manifest(text, "test.toml")


@pytest.fixture()
def two_file_model(monkeypatch, tmp_path, file_server: FileServer):
    """``tinyw.test`` whose checkpoint holds the head and whose part ``tinyw.tail`` holds the tail."""
    monkeypatch.setitem(registry._SPECS, MODEL, ModelSpec(id=MODEL, factory=TinyResidualNet, task="denoise",
                                                          weights=KEY))
    trained = _trained_state()
    main = _bytes({k: v for k, v in trained.items() if k.startswith("head.")})
    part = _bytes({k: v for k, v in trained.items() if k.startswith("tail.")})

    def serve(**kwargs: object):
        manifest = _two_file_manifest(file_server, main, part, **kwargs)
        monkeypatch.setattr("vrestore.weights.store.load_manifest", lambda: manifest)
        return trained

    return serve


def test_a_checkpoint_with_a_part_loads_both_files(two_file_model, tmp_path, file_server):
    trained = two_file_model()
    model = load_model(MODEL, device="cpu", cache_dir=tmp_path / "cache")
    got = model.module.state_dict()
    assert all(torch.equal(got[k], trained[k]) for k in trained)
    assert sorted(path for path, _ in file_server.requests) == sorted([PATH, "/tinyw-tail.pth"])
    assert list((tmp_path / "cache" / "tinyw.tail").glob("*.pth"))
    assert f"/{KEY}/" in model.weights.file  # the main file names the weights


def test_a_corrupt_part_is_refused(two_file_model, tmp_path):
    two_file_model(sha_of_part="00" * 32)
    with pytest.raises(WeightsError, match="tinyw.test"):
        load_model(MODEL, device="cpu", cache_dir=tmp_path / "cache")
