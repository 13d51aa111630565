"""The checkpoint store against a local HTTP server: downloads, cache, resume, errors, offline, mirror, pins."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.weights.fileserver import FileServer, make_store, manifest_for, payload, sha
from vrestore.errors import WeightsError
from vrestore.weights.store import Store, default_cache_dir, offline_requested

KEY = "demo.ckpt"
PATH = "/owner/repo/releases/download/v1/demo.pth"


@pytest.fixture()
def data() -> bytes:
    return payload(300_000)


@pytest.fixture()
def served(file_server: FileServer, data: bytes) -> FileServer:
    file_server.files[PATH] = data
    return file_server


def checkpoint_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob("*") if p.suffix in (".pth", ".part") or p.name.endswith(".part"))


def test_first_download_then_cache_hit_without_network(tmp_path, served, data):
    store = make_store(tmp_path, manifest_for(KEY, served.url(PATH), data))
    reports = []
    path = store.fetch(KEY, progress=reports.append)
    assert path == tmp_path / KEY / f"{sha(data)[:12]}.pth"
    assert path.read_bytes() == data
    assert reports and reports[-1].done == len(data) and reports[-1].total == len(data)
    assert len(served.requests) == 1
    assert checkpoint_files(path.parent) == [path.name]

    # Same cache, and a url where nothing listens: the cached file is used without any request.
    offline_url = make_store(tmp_path, manifest_for(KEY, "http://127.0.0.1:9/x.pth", data))
    assert offline_url.fetch(KEY) == path
    assert len(served.requests) == 1


def test_corrupt_cache_is_downloaded_again(tmp_path, served, data, caplog):
    store = make_store(tmp_path, manifest_for(KEY, served.url(PATH), data))
    path = store.fetch(KEY)
    path.write_bytes(b"garbage" + data[7:])
    with caplog.at_level(logging.WARNING, logger="vrestore"):
        again = store.fetch(KEY)
    assert again == path and path.read_bytes() == data
    assert len(served.requests) == 2
    assert "fails its sha256 check" in caplog.text


def test_persistent_mismatch_leaves_no_file(tmp_path, served, data):
    served.files[PATH] = data[:-1] + b"X"  # the server's file is not the one the manifest describes
    store = make_store(tmp_path, manifest_for(KEY, served.url(PATH), data))
    with pytest.raises(WeightsError, match="does not match weights.toml .* was not kept"):
        store.fetch(KEY, label="demo.model")
    assert checkpoint_files(tmp_path / KEY) == []
    assert store.cached(KEY) is None


def test_dropped_connections_resume_with_range(tmp_path, served, data):
    served.drops[PATH] = [150_000, 100_000]
    store = make_store(tmp_path, manifest_for(KEY, served.url(PATH), data))
    path = store.fetch(KEY)
    assert path.read_bytes() == data
    first, *resumed = served.gets(PATH)
    starts = [int(r.removeprefix("bytes=").rstrip("-")) for r in resumed]
    assert first is None and len(starts) == 2 and 0 < starts[0] < starts[1] < len(data)


def test_server_without_range_support_restarts(tmp_path, served, data):
    served.drops[PATH] = [100_000]
    served.ignore_range = True
    store = make_store(tmp_path, manifest_for(KEY, served.url(PATH), data))
    assert store.fetch(KEY).read_bytes() == data
    assert len(served.gets(PATH)) == 2


def test_stale_part_file_is_resumed_or_replaced(tmp_path, served, data):
    store = make_store(tmp_path, manifest_for(KEY, served.url(PATH), data))
    folder = tmp_path / KEY
    folder.mkdir()
    part = folder / f"{sha(data)[:12]}.pth.part"
    part.write_bytes(b"\0" * 1000)  # a wrong leftover: resume gives a bad hash, so one fresh download follows
    assert store.fetch(KEY).read_bytes() == data
    assert served.gets(PATH) == ["bytes=1000-", None]
    assert not part.exists()


def test_404_is_a_clear_error(tmp_path, served, data):
    store = make_store(tmp_path, manifest_for(KEY, served.url("/missing.pth"), data))
    with pytest.raises(WeightsError, match=r"cannot download the checkpoint of demo\.model: .*HTTP 404.*set "
                                           "VRESTORE_WEIGHTS_MIRROR"):
        store.fetch(KEY, label="demo.model")
    assert len(served.requests) == 1  # a 404 is not retried


def test_timeout_is_a_clear_error_after_retries(tmp_path, served, data):
    served.stall[PATH] = 1.0
    store = make_store(tmp_path, manifest_for(KEY, served.url(PATH), data))
    with pytest.raises(WeightsError, match=r"4 attempts failed, the last: timed out"):
        store.fetch(KEY)
    assert len(served.requests) == 4


def test_mirror_in_manifest_used_when_primary_fails(tmp_path, served, data):
    manifest = manifest_for(KEY, served.url("/gone.pth"), data, mirrors=[served.url(PATH)])
    assert make_store(tmp_path, manifest).fetch(KEY).read_bytes() == data


def test_offline_without_cache_names_the_command(tmp_path, served, data, monkeypatch):
    monkeypatch.setenv("VRESTORE_OFFLINE", "1")
    store = Store(tmp_path, manifest=manifest_for(KEY, served.url(PATH), data), mirror="")
    assert store.offline
    target = tmp_path / KEY / f"{sha(data)[:12]}.pth"
    with pytest.raises(WeightsError) as info:
        store.fetch(KEY, label="demo.model")
    message = str(info.value)
    assert "not cached and VRESTORE_OFFLINE=1" in message
    assert "vrestore models download demo.model" in message and str(target) in message
    assert served.requests == []


def test_offline_with_cache(tmp_path, served, data, monkeypatch):
    path = make_store(tmp_path, manifest_for(KEY, served.url(PATH), data)).fetch(KEY)
    monkeypatch.setenv("VRESTORE_OFFLINE", "1")
    store = Store(tmp_path, manifest=manifest_for(KEY, served.url(PATH), data), mirror="")
    assert store.fetch(KEY) == path
    assert len(served.requests) == 1


@pytest.mark.parametrize("layout", ["url-path", "flat"])
def test_mirror_folder_works_offline(tmp_path, served, data, monkeypatch, layout):
    mirror = tmp_path / "mirror"
    name = PATH.lstrip("/") if layout == "url-path" else "demo.pth"
    (mirror / name).parent.mkdir(parents=True)
    (mirror / name).write_bytes(data)
    monkeypatch.setenv("VRESTORE_WEIGHTS_MIRROR", str(mirror))
    monkeypatch.setenv("VRESTORE_OFFLINE", "1")
    store = Store(tmp_path / "cache", manifest=manifest_for(KEY, served.url(PATH), data))
    assert store.fetch(KEY).read_bytes() == data
    assert served.requests == []


def test_mirror_url_replaces_the_host(tmp_path, served, data):
    manifest = manifest_for(KEY, "https://127.0.0.1:9" + PATH, data)  # nothing listens there
    store = make_store(tmp_path, manifest, mirror=served.url("/"))
    assert store.fetch(KEY).read_bytes() == data
    assert served.gets(PATH) == [None]


def test_unverified_entry_is_pinned_then_changes_are_refused(tmp_path, served, data, caplog):
    store = make_store(tmp_path, manifest_for(KEY, served.url(PATH), None))
    assert store.cached(KEY) is None and store.target(KEY) is None
    with caplog.at_level(logging.WARNING, logger="vrestore"):
        path = store.fetch(KEY, label="demo.model")
    assert path.name == f"{sha(data)[:12]}.pth" and path.read_bytes() == data
    assert f"pinned {sha(data)}" in caplog.text
    pin = json.loads((tmp_path / KEY / "pin.json").read_text())
    assert pin["sha256"] == sha(data) and pin["size"] == len(data)
    assert store.fetch(KEY) == path and store.verify(KEY).status == "ok"

    served.files[PATH] = payload(300_000, seed=2)  # the publisher replaced the file
    path.unlink()
    with pytest.raises(WeightsError, match="differs from the copy pinned .* delete .*pin.json"):
        store.fetch(KEY, label="demo.model")
    assert checkpoint_files(tmp_path / KEY) == []

    served.files[PATH] = data  # the original comes back: accepted again
    assert store.fetch(KEY) == path


def test_verify_and_force(tmp_path, served, data):
    store = make_store(tmp_path, manifest_for(KEY, served.url(PATH), data))
    assert store.verify(KEY).status == "missing"
    path = store.fetch(KEY)
    assert store.verify(KEY).status == "ok"
    path.write_bytes(b"x")
    assert store.verify(KEY).status == "corrupt"
    assert store.download(KEY, force=True).read_bytes() == data
    assert len(served.requests) == 2


def test_bundled_entry(tmp_path):
    from tests.weights.fileserver import sha as sha_of
    from vrestore.demo import demo_clip
    from vrestore.weights.manifest import parse_manifest

    clip = demo_clip().read_bytes()
    text = (f'[bundled]\nfile = "data/{demo_clip().name}"\nsha256 = "{sha_of(clip)}"\nsize = {len(clip)}\n'
            'license = "MIT"\nsource = "test"\n')
    store = make_store(tmp_path, parse_manifest(text))
    assert store.fetch("bundled") == demo_clip()
    bad = make_store(tmp_path, parse_manifest(text.replace(sha_of(clip), "0" * 64)))
    with pytest.raises(WeightsError, match="bundled checkpoint of bundled is corrupt"):
        bad.fetch("bundled")


def test_environment_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("VRESTORE_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("VRESTORE_CACHE_DIR")
    assert default_cache_dir().name.lower() == "vrestore"
    for value, expected in [("1", True), ("yes", True), ("0", False), ("", False), ("false", False)]:
        assert offline_requested({"VRESTORE_OFFLINE": value}) is expected


_CONCURRENT = textwrap.dedent(
    """
    import logging
    import sys
    from pathlib import Path
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from vrestore.weights.manifest import parse_manifest
    from vrestore.weights.store import Store
    store = Store(Path(sys.argv[1]), manifest=parse_manifest(Path(sys.argv[2]).read_text()), offline=False,
                  mirror="")
    print(store.fetch("demo.ckpt"))
    """
)


def test_two_processes_download_one_checkpoint_once(tmp_path, served, data):
    served.chunk_delay = 0.05  # ~1 s of streaming, so the second process arrives while the first downloads
    manifest = tmp_path / "m.toml"
    manifest.write_text(
        f'["{KEY}"]\nurl = "{served.url(PATH)}"\nsha256 = "{sha(data)}"\nsize = {len(data)}\n'
        'license = "MIT"\nsource = "test"\n'
    )
    cache = tmp_path / "cache"
    procs = [
        subprocess.Popen([sys.executable, "-c", _CONCURRENT, str(cache), str(manifest)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    paths = {Path(out.strip()) for out, _ in outs}
    assert len(paths) == 1
    assert paths.pop().read_bytes() == data
    assert len(served.gets(PATH)) == 1
    assert any("waiting for another process" in err for _, err in outs), outs
    assert checkpoint_files(cache / KEY) == [f"{sha(data)[:12]}.pth"]


def test_offline_unverified_entry_points_to_the_mirror_folder(tmp_path, served):
    store = Store(tmp_path, manifest=manifest_for(KEY, served.url(PATH), None), offline=True, mirror="")
    with pytest.raises(WeightsError, match="put demo.pth in a folder and set VRESTORE_WEIGHTS_MIRROR"):
        store.fetch(KEY)
    assert served.requests == []


def test_unwritable_cache_is_a_weights_error(tmp_path, served, data):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    store = make_store(blocker / "cache", manifest_for(KEY, served.url(PATH), data))
    with pytest.raises(WeightsError, match="cannot write the checkpoint .* writable folder"):
        store.fetch(KEY)
