"""``vrestore models list|download|verify|path`` and ``restore --cache-dir`` against a local server."""

from __future__ import annotations

import io
import json
import os

import pytest
import torch

from tests.weights.fileserver import FileServer, file_server, manifest_for  # noqa: F401  (fixture)
from vrestore.models import registry
from vrestore.models.spec import ModelSpec
from vrestore.models.tiny import TinyResidualNet
from vrestore.weights import store as store_module
from vrestore.weights.download import TransferSettings

MODEL = "tinyw.test"
PATH = "/releases/tinyw.pth"


@pytest.fixture()
def checkpoint(monkeypatch, tmp_path, file_server: FileServer) -> bytes:  # noqa: F811
    """``tinyw.test`` registered with checkpoint ``tinyw.test``, served on 127.0.0.1; cache in tmp_path."""
    buffer = io.BytesIO()
    torch.save({"params": TinyResidualNet().state_dict()}, buffer)
    data = buffer.getvalue()
    file_server.files[PATH] = data
    manifest = manifest_for(MODEL, file_server.url(PATH), data, license="CC-BY-NC-4.0")
    # Only models whose checkpoints the test manifest knows (none of the registered ones with weights).
    monkeypatch.setattr(registry, "_SPECS", {k: s for k, s in registry._SPECS.items() if s.weights is None})
    monkeypatch.setitem(registry._SPECS, MODEL, ModelSpec(id=MODEL, factory=TinyResidualNet, task="denoise",
                                                           weights=MODEL))
    monkeypatch.setattr("vrestore.weights.store.load_manifest", lambda: manifest)
    monkeypatch.setattr("vrestore.weights.manifest.load_manifest", lambda: manifest)
    monkeypatch.setattr(store_module, "TransferSettings",
                        lambda: TransferSettings(timeout=(2.0, 0.3), backoff=0.0, sleep=lambda s: None))
    monkeypatch.setenv("VRESTORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("VRESTORE_OFFLINE", raising=False)
    monkeypatch.delenv("VRESTORE_WEIGHTS_MIRROR", raising=False)
    return data


def _row(run_cli, model_id: str = MODEL) -> dict:
    result = run_cli("models", "list", "--json")
    assert result.code == 0, result.stderr
    return next(r for r in json.loads(result.stdout) if r["id"] == model_id)


def test_list_download_path_verify(run_cli, checkpoint, tmp_path, file_server):  # noqa: F811
    row = _row(run_cli)
    assert (row["size"], row["license"], row["cached"]) == (len(checkpoint), "CC-BY-NC-4.0", False)
    assert _row(run_cli, "tiny.test")["cached"] is True  # built-in weights

    result = run_cli("models", "path", MODEL)
    assert result.code == 5 and "vrestore models download tinyw.test" in result.stderr

    result = run_cli("models", "download", MODEL)
    assert result.code == 0, result.stderr
    path = tmp_path / "cache" / MODEL / next(p.name for p in (tmp_path / "cache" / MODEL).glob("*.pth"))
    assert str(path) in result.stdout and path.read_bytes() == checkpoint
    assert _row(run_cli)["cached"] is True

    result = run_cli("models", "path", MODEL)
    assert result.code == 0 and result.stdout.strip() == str(path)
    result = run_cli("models", "verify", "--json")
    assert result.code == 0
    assert json.loads(result.stdout) == [{"id": MODEL, "checkpoint": MODEL, "status": "ok", "path": str(path),
                                          "detail": ""}]

    path.write_bytes(b"corrupt")
    result = run_cli("models", "verify")
    assert result.code == 5
    assert "tinyw.test: corrupt" in result.stdout and "download --force tinyw.test" in result.stderr
    assert run_cli("models", "download", "--force", MODEL).code == 0
    assert run_cli("models", "verify").code == 0
    assert len(file_server.requests) == 2


def test_download_all_and_cache_dir_option(run_cli, checkpoint, tmp_path):
    other = tmp_path / "elsewhere"
    result = run_cli("models", "download", "--all", "--cache-dir", other, "--quiet")
    assert result.code == 0 and result.stdout == ""
    assert list((other / MODEL).glob("*.pth")) and not (tmp_path / "cache").exists()


def test_download_mismatch_is_exit_5_and_leaves_nothing(run_cli, checkpoint, tmp_path, file_server):  # noqa: F811
    file_server.files[PATH] = checkpoint + b"tampered"
    result = run_cli("models", "download", MODEL)
    assert result.code == 5
    assert result.stderr.count("\n") == 1 and "was not kept" in result.stderr
    folder = tmp_path / "cache" / MODEL
    assert not [p for p in folder.iterdir() if p.suffix in (".pth", ".part")]


def test_offline_download_names_the_fix(run_cli, checkpoint, monkeypatch, file_server):  # noqa: F811
    monkeypatch.setenv("VRESTORE_OFFLINE", "1")
    result = run_cli("models", "download", MODEL)
    assert result.code == 5 and result.stderr.count("\n") == 1
    assert "VRESTORE_OFFLINE=1; run 'vrestore models download tinyw.test' on a machine with internet" in result.stderr
    assert file_server.requests == []


def test_usage_errors(run_cli, checkpoint):
    assert run_cli("models", "download").code == 2
    assert run_cli("models", "download", "nope.model").code == 2
    result = run_cli("models", "download", "tiny.test")
    assert result.code == 0 and "built-in weights" in result.stdout


def test_restore_downloads_into_cache_dir(run_cli, checkpoint, small_video, tmp_path, file_server):  # noqa: F811
    cache = tmp_path / "restore-cache"
    before = os.environ.get("VRESTORE_CACHE_DIR")
    result = run_cli("restore", small_video, tmp_path / "out.mp4", "--model", MODEL, "--device", "cpu",
                     "--cache-dir", cache, "--quiet")
    assert result.code == 0, result.stderr
    assert list((cache / MODEL).glob("*.pth")) and (tmp_path / "out.mp4").is_file()
    assert os.environ.get("VRESTORE_CACHE_DIR") == before
    assert len(file_server.requests) == 1


def test_a_checkpoint_with_a_part(run_cli, checkpoint, monkeypatch, tmp_path, file_server):  # noqa: F811
    """list sums the sizes and calls it cached only with every part; download and verify cover the part."""
    from tests.weights.fileserver import sha
    from vrestore.weights.manifest import parse_manifest

    part = b"not read by these commands"
    file_server.files["/releases/tail.pth"] = part
    text = (f'["{MODEL}"]\nurl = "{file_server.url(PATH)}"\nsha256 = "{sha(checkpoint)}"\nsize = {len(checkpoint)}\n'
            f'license = "MIT"\nsource = "t"\nparts = ["tinyw.tail"]\n["tinyw.tail"]\n'
            f'url = "{file_server.url("/releases/tail.pth")}"\nsha256 = "{sha(part)}"\nsize = {len(part)}\n'
            'license = "MIT"\nsource = "t"\n')
    manifest = parse_manifest(text, "test.toml")
    monkeypatch.setattr("vrestore.weights.store.load_manifest", lambda: manifest)
    monkeypatch.setattr("vrestore.weights.manifest.load_manifest", lambda: manifest)
    assert (_row(run_cli)["size"], _row(run_cli)["cached"]) == (len(checkpoint) + len(part), False)

    result = run_cli("models", "download", MODEL)
    assert result.code == 0, result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [MODEL, "tinyw.tail"]
    assert _row(run_cli)["cached"] is True
    result = run_cli("models", "verify", MODEL, "--json")
    assert [(r["id"], r["checkpoint"], r["status"]) for r in json.loads(result.stdout)] == [
        (MODEL, MODEL, "ok"), ("tinyw.tail", "tinyw.tail", "ok")]

    next((tmp_path / "cache" / "tinyw.tail").glob("*.pth")).unlink()
    assert _row(run_cli)["cached"] is False
