"""The Python batch API: ``vrestore.batch.output_pairs`` and ``vrestore.batch_restore.restore_many``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_models_cli import MODEL, checkpoint  # noqa: F401  (fixture)
from tests.helpers import make_video
from tests.weights.fileserver import file_server  # noqa: F401  (fixture)
from vrestore.batch import Shard, output_pairs
from vrestore.batch_restore import BatchEvents, restore_many
from vrestore.errors import InputError
from vrestore.options import RestoreOptions

OPTIONS = RestoreOptions(model="tiny.test", device="cpu")


@pytest.fixture()
def clips(tmp_path) -> Path:
    """clips/ with a.mp4 (3 frames), b.mp4 (empty: fails) and c.mp4 (5 frames)."""
    folder = tmp_path / "clips"
    folder.mkdir()
    make_video(folder / "a.mp4", frames=3, size=(32, 32))
    (folder / "b.mp4").write_bytes(b"")
    make_video(folder / "c.mp4", frames=5, size=(32, 32))
    return folder


def test_restore_many_goes_on_after_a_failure_and_reports_each_input(clips, tmp_path):
    seen, progressed = [], set()
    events = BatchEvents(outcome=seen.append, progress=lambda number, p: progressed.add(number))
    pairs = output_pairs([clips], tmp_path / "out")
    outcomes = restore_many(pairs, OPTIONS, continue_on_error=True, make_folders=True, events=events)
    assert [(Path(o.input).name, o.status, o.frames) for o in outcomes] == [
        ("a.mp4", "ok", 3), ("b.mp4", "failed", 0), ("c.mp4", "ok", 5)
    ]
    assert seen == outcomes and progressed == {1, 3}
    failed = outcomes[1]
    assert isinstance(failed.exception, InputError) and failed.error and not failed.stops_batch
    assert failed.to_dict(code=3)["code"] == 3 and failed.to_dict()["status"] == "failed"
    assert outcomes[0].result is not None and outcomes[0].to_dict()["model"] == "tiny.test"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.mp4", "c.mp4"]


def test_restore_many_raises_the_first_failure_without_continue(clips, tmp_path):
    seen = []
    pairs = output_pairs([clips], tmp_path / "out")
    with pytest.raises(InputError):
        restore_many(pairs, OPTIONS, make_folders=True, events=BatchEvents(outcome=seen.append))
    assert [o.status for o in seen] == ["ok", "failed"] and seen[-1].stops_batch
    assert not (tmp_path / "out" / "c.mp4").exists()


def test_restore_many_skips_existing_outputs(clips, tmp_path):
    (clips / "b.mp4").unlink()
    pairs = output_pairs([clips], tmp_path / "out")
    restore_many(pairs[:1], OPTIONS, make_folders=True)
    outcomes = restore_many(pairs, OPTIONS, skip_existing=True, make_folders=True)
    assert [o.status for o in outcomes] == ["skipped", "ok"]
    assert outcomes[0].to_dict() == {"status": "skipped", "input": str(clips / "a.mp4"),
                                     "output": str(tmp_path / "out" / "a.mp4"), "frames": 0, "seconds": 0.0,
                                     "code": 0, "error": None}


def test_shards_of_pairs_cover_the_batch_once(clips, tmp_path):
    pairs = output_pairs([clips], tmp_path / "out")
    shares = [Shard(k, 2).select(pairs) for k in (1, 2)]
    assert sorted(shares[0] + shares[1]) == sorted(pairs)
    assert [Path(src).name for src, _ in shares[0]] == ["a.mp4", "c.mp4"]


def test_the_checkpoint_is_downloaded_before_the_first_input(checkpoint, clips, tmp_path):  # noqa: F811
    reports = []
    events = BatchEvents(download=reports.append)
    with pytest.raises(InputError):  # b.mp4 is empty: the download came first all the same
        restore_many([(clips / "b.mp4", tmp_path / "b.mkv")], RestoreOptions(model=MODEL, device="cpu"),
                      events=events)
    assert reports and reports[-1].key == MODEL and reports[-1].done == reports[-1].total
    reports.clear()
    outcomes = restore_many([(clips / "a.mp4", tmp_path / "a.mkv")], RestoreOptions(model=MODEL, device="cpu"),
                            events=events)
    assert [o.status for o in outcomes] == ["ok"] and reports == []  # cached now


def test_restore_many_is_part_of_the_package_api():
    import vrestore

    assert vrestore.restore_many is restore_many and "restore_many" in vrestore.__all__
