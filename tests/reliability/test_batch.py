"""Batches: several inputs with -o, one model load, JSON Lines, --continue-on-error, --skip-existing,
--recursive and --shard."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from tests.helpers import assert_one_line_error, make_video
from tests.reliability.corpus import empty, random_bytes


def frame_count(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


@pytest.fixture()
def clips(tmp_path) -> Path:
    """clips/ with a.mp4 c.mp4 e.mp4 (good, 4 frames), b.mp4 (empty), d.mp4 (random bytes), sub/f.mp4."""
    folder = tmp_path / "clips"
    (folder / "sub").mkdir(parents=True)
    for name in ("a", "c", "e"):
        make_video(folder / f"{name}.mp4", frames=4, size=(32, 32))
    empty(folder).rename(folder / "b.mp4")
    random_bytes(folder).rename(folder / "d.mp4")
    make_video(folder / "sub" / "f.mp4", frames=4, size=(32, 32))
    return folder


def lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


def test_continue_on_error_reports_all_and_exits_with_first_failure(cli, clips, tmp_path):
    out = tmp_path / "out"
    result = cli("restore", clips, "-o", out, "-m", "tiny.test", "--json", "--continue-on-error")
    assert result.code == 3, result.stderr
    reports = lines(result.stdout)
    assert [(Path(r["input"]).name, r["status"], r["code"]) for r in reports] == [
        ("a.mp4", "ok", 0), ("b.mp4", "failed", 3), ("c.mp4", "ok", 0), ("d.mp4", "failed", 3), ("e.mp4", "ok", 0)
    ]
    assert all(set(r) >= {"status", "input", "output", "frames", "seconds", "code", "error"} for r in reports)
    assert "is empty" in reports[1]["error"]
    for name in ("a", "c", "e"):
        assert frame_count(out / f"{name}.mp4") == 4
    assert sorted(p.name for p in out.iterdir()) == ["a.mp4", "c.mp4", "e.mp4"]
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 2


def test_without_continue_the_first_failure_stops_the_batch(cli, clips, tmp_path):
    out = tmp_path / "out"
    result = cli("restore", clips, "-o", out, "-m", "tiny.test", "--json")
    assert [r["status"] for r in lines(result.stdout)] == ["ok", "failed"]
    assert_one_line_error(result, 3)


def test_model_is_loaded_once(cli, clips, tmp_path, monkeypatch):
    import vrestore.api as api

    calls = []
    real = api.load_model
    monkeypatch.setattr(api, "load_model", lambda *a, **k: calls.append(1) or real(*a, **k))
    result = cli("restore", clips / "a.mp4", clips / "c.mp4", clips / "sub", "-o", tmp_path / "o", "-m", "tiny.test")
    assert result.code == 0, result.stderr
    assert len(calls) == 1
    assert "3 restored, 0 skipped, 0 failed" in result.stdout


def test_recursive_mirrors_subfolders_and_skip_existing(cli, clips, tmp_path):
    for bad in ("b.mp4", "d.mp4"):
        (clips / bad).unlink()
    out = tmp_path / "out"
    first = cli("restore", clips, "-o", out, "-m", "tiny.test", "--recursive", "--json")
    assert first.code == 0, first.stderr
    assert (out / "sub" / "f.mp4").is_file()
    (out / "c.mp4").unlink()
    second = cli("restore", clips, "-o", out, "-m", "tiny.test", "--recursive", "--skip-existing", "--json")
    assert second.code == 0, second.stderr
    assert {Path(r["input"]).name: r["status"] for r in lines(second.stdout)} == {
        "a.mp4": "skipped", "c.mp4": "ok", "e.mp4": "skipped", "f.mp4": "skipped"
    }
    flat = cli("restore", clips, "-o", tmp_path / "flat", "-m", "tiny.test", "--json")
    assert [Path(r["input"]).name for r in lines(flat.stdout)] == ["a.mp4", "c.mp4", "e.mp4"]


def test_glob_input(cli, clips, tmp_path):
    result = cli("restore", str(clips / "[ace].mp4"), "-o", tmp_path / "g", "-m", "tiny.test", "--json")
    assert result.code == 0, result.stderr
    assert len(lines(result.stdout)) == 3


def test_shards_split_the_batch_deterministically(cli, clips, tmp_path):
    seen: list[str] = []
    for k in (1, 2, 3):
        result = cli("restore", clips, "-o", tmp_path / "s", "-m", "tiny.test", "--json", "-k", "--shard", f"{k}/3")
        seen += [Path(r["input"]).name for r in lines(result.stdout)]
    assert sorted(seen) == ["a.mp4", "b.mp4", "c.mp4", "d.mp4", "e.mp4"]


@pytest.mark.parametrize(
    "args",
    [["--shard", "4/3"], ["--shard", "x"], ["--skip-existing", "--overwrite"]],
    ids=["shard-range", "shard-syntax", "skip-and-overwrite"],
)
def test_bad_batch_options_are_usage_errors(cli, clips, tmp_path, args):
    result = cli("restore", clips, "-o", tmp_path / "o", "-m", "tiny.test", *args)
    assert_one_line_error(result, 2)
    assert not (tmp_path / "o").exists()


def test_several_inputs_need_an_output_folder(cli, clips):
    result = cli("restore", clips / "a.mp4", clips / "c.mp4", clips / "e.mp4", "-m", "tiny.test")
    assert result.code == 2 and "-o FOLDER" in result.stderr


def test_two_inputs_with_the_same_name_are_refused(cli, clips, tmp_path):
    make_video(tmp_path / "a.mp4", frames=2, size=(32, 32))
    result = cli("restore", clips / "a.mp4", tmp_path / "a.mp4", "-o", tmp_path / "o", "-m", "tiny.test")
    assert result.code == 2 and "both be written" in result.stderr


def test_same_folder_for_input_and_output_never_touches_inputs(cli, clips):
    result = cli("restore", clips / "a.mp4", "-o", clips, "-m", "tiny.test", "--overwrite")
    assert result.code == 4 and "is the input file" in result.stderr
    assert frame_count(clips / "a.mp4") == 4


def test_synth_shards_cover_the_dataset_with_the_unsharded_results(cli, tmp_path):
    from tests.cli.test_synth_cli import tree_digest
    from tests.degrade.conftest import textured_images, write_frames

    root = tmp_path / "clean"
    for i, name in enumerate(("alpha", "beta", "gamma")):
        write_frames(root / name, textured_images(2, seed=i))
    whole = cli("synth", root, tmp_path / "whole", "--interval", "2", "--seed", "3", "-q")
    assert whole.code == 0, whole.stderr
    for k in (1, 2):
        part = cli("synth", root, tmp_path / "parts", "--interval", "2", "--seed", "3", "-q", "--shard", f"{k}/2")
        assert part.code == 0, part.stderr
    assert tree_digest(tmp_path / "parts") == tree_digest(tmp_path / "whole")
    single = cli("synth", root / "alpha", tmp_path / "one", "--shard", "1/2")
    assert single.code == 2 and "--shard" in single.stderr


def test_restorer_reuses_its_model(tmp_path):
    from vrestore.api import Restorer
    from vrestore.options import RestoreOptions

    restorer = Restorer(RestoreOptions(model="tiny.test", device="cpu"))
    first = make_video(tmp_path / "one.mp4", frames=3, size=(32, 32))
    second = make_video(tmp_path / "two.mp4", frames=5, size=(32, 32))
    a = restorer.restore(first, tmp_path / "one_out.mkv")
    model = restorer.model
    b = restorer.restore(second, tmp_path / "two_out.mkv")
    assert restorer.model is model and (a.frames, b.frames) == (3, 5)
    assert not restorer.load_failed
