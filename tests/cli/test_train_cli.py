from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from tests.helpers import assert_one_line_error


@pytest.fixture()
def recipe(tmp_path, make_clip):
    clip = make_clip("clean.mkv", count=6, size=(48, 40))
    path = tmp_path / "recipe.yml"
    path.write_text(yaml.safe_dump({
        "model": "tiny.test", "output": "run", "steps": 4, "batch_size": 1, "checkpoint_every": 2, "log_every": 1,
        "val_every": 2, "data": {"train": [str(clip)], "val": [str(clip)], "frames": 2, "crop": 32,
                                 "val_frames": 2, "val_crop": 32, "intervals": [2]},
    }), encoding="utf-8")
    return path


def test_train_then_export(run_cli, recipe, tmp_path):
    result = run_cli("train", recipe, "--stop-at", "2", "--json")
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["step"] == 2 and summary["finished"] is False
    result = run_cli("train", recipe, "--resume", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["finished"] is True
    out = tmp_path / "w.pth"
    result = run_cli("train", "export", tmp_path / "run" / "last.pth", "-o", out, "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["size"] == out.stat().st_size and len(report["sha256"]) == 64 and report["parts"] == []
    head = tmp_path / "head.pth"
    result = run_cli("train", "export", tmp_path / "run" / "last.pth", "-o", out, "--part", f"head.={head}", "--json")
    assert result.code == 0, result.stderr
    (part,) = json.loads(result.stdout)["parts"]
    assert (part["prefix"], part["output"], part["size"]) == ("head.", str(head), head.stat().st_size)
    result = run_cli("train", "export", tmp_path / "run" / "last.pth", "-o", out, "--part", "head.")
    assert result.code == 2 and "is not PREFIX=FILE" in result.stderr and result.stderr.count("\n") == 1


def test_plain_output_mentions_the_checkpoint(run_cli, recipe):
    result = run_cli("train", recipe)
    assert result.code == 0, result.stderr
    assert "training finished" in result.stdout and "last.pth" in result.stdout
    assert "validation PSNR" in result.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [("model: tiny.test\nsteps: 1\ndata: {train: [nowhere]}\n", "do not exist"),
     ("model: nosuch\nsteps: 1\ndata: {train: [x]}\n", "unknown model"),
     ("steps: 1\n", "'data' mapping")],
)
def test_bad_recipes_exit_2_with_one_line(run_cli, tmp_path, content, fragment):
    path = tmp_path / "bad.yml"
    path.write_text(content, encoding="utf-8")
    result = run_cli("train", path)
    assert_one_line_error(result, 2, fragment)


def test_export_of_a_foreign_file_is_refused(run_cli, tmp_path):
    foreign = tmp_path / "f.pth"
    foreign.write_bytes(b"not a checkpoint")
    result = run_cli("train", "export", foreign, "-o", tmp_path / "w.pth")
    assert result.code == 2 and "not a readable vrestore training checkpoint" in result.stderr
    assert not (tmp_path / "w.pth").exists()


def test_torchrun_with_two_processes_on_the_cpu(recipe, tmp_path):
    """DistributedDataParallel over gloo: rank 0 alone logs, checkpoints and reports."""
    import shutil
    import subprocess
    import sys

    if shutil.which("torchrun") is None and not (Path(sys.executable).parent / "torchrun").exists():
        pytest.skip("torchrun is not installed next to this Python")
    torchrun = shutil.which("torchrun") or str(Path(sys.executable).parent / "torchrun")
    result = subprocess.run([torchrun, "--standalone", "--nproc_per_node", "2", "-m", "vrestore", "train", str(recipe),
                             "--json", "-o", str(tmp_path / "ddp")], capture_output=True, text=True, timeout=240)
    # torchrun's own log lines (W/E/I + date) bury the rank's message; keep the others.
    own = [line for line in result.stderr.splitlines() if not re.match(r"[WEI]\d{4} ", line)]
    assert result.returncode == 0, "\n".join(own)[-3000:]
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert len(reports) == 1 and reports[0]["finished"] and reports[0]["step"] == 4
    log = [json.loads(line) for line in (tmp_path / "ddp" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "loss" in r] == [1, 2, 3, 4]


def test_steps_and_init_override_the_recipe(run_cli, recipe, tmp_path):
    assert run_cli("train", recipe, "--steps", "2", "-o", tmp_path / "a", "--json").code == 0
    weights = tmp_path / "a.pth"
    assert run_cli("train", "export", tmp_path / "a" / "last.pth", "-o", weights, "--dtype", "fp32").code == 0
    result = run_cli("train", recipe, "--steps", "3", "--init", weights, "-o", tmp_path / "b", "--json")
    assert result.code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["step"] == summary["total"] == 3
    import torch

    saved = torch.load(tmp_path / "b" / "last.pth", weights_only=True)
    assert saved["config"]["init"] == str(weights.resolve())


def test_an_init_that_is_neither_a_file_nor_a_model_exits_2_with_one_line(run_cli, recipe, tmp_path):
    result = run_cli("train", recipe, "--steps", "2", "--init", "no-such.pth", "-o", tmp_path / "a")
    assert result.code == 2
    assert "checkpoint" in result.stderr and "no-such.pth" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "a" / "last.pth").exists()


def test_ctrl_c_keeps_the_checkpoint_and_says_how_to_continue(run_cli, recipe, tmp_path, monkeypatch):
    import vrestore.train.loop as loop

    real_log = loop._log

    def interrupt_at_step_3(output, record):
        real_log(output, record)
        if record.get("step") == 3 and "loss" in record:
            raise KeyboardInterrupt

    monkeypatch.setattr(loop, "_log", interrupt_at_step_3)
    result = run_cli("train", recipe, "--quiet")
    assert result.code == 130
    last = tmp_path / "run" / "last.pth"
    assert result.stderr.strip() == (f"error: interrupted; kept the checkpoint {last}: run the same command again "
                                     "(with --resume) to continue")
    monkeypatch.setattr(loop, "_log", real_log)
    result = run_cli("train", recipe, "--resume", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["step"] == 4
