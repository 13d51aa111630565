"""The CLI without videos: version, help, models, option errors."""

from __future__ import annotations

import json

import pytest

from vrestore import __version__


def test_version(run_cli):
    result = run_cli("--version")
    assert result.code == 0
    assert result.stdout.strip() == f"vrestore {__version__}"


@pytest.mark.parametrize("command", [["restore"], ["demo"], ["models", "list"], ["models", "inspect"]])
def test_every_help_shows_an_example(run_cli, command):
    result = run_cli(*command, "--help")
    assert result.code == 0
    assert "Example: vrestore" in result.stdout


def test_models_list_json(run_cli):
    result = run_cli("models", "list", "--json")
    assert result.code == 0
    rows = json.loads(result.stdout)
    tiny = next(row for row in rows if row["id"] == "tiny.test")
    assert {"id": "tiny.test", "default": True}.items() <= tiny.items()


def test_models_inspect_json(run_cli):
    result = run_cli("models", "inspect", "tiny.test", "--json")
    assert result.code == 0
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["id"] == "tiny.test"
    assert report["state_dict"]["head.weight"] == [8, 3, 3, 3]
    assert report["parameters"] == 8 * 27 + 8 + 3 * 72 + 3


def test_models_inspect_checkpoint_file(run_cli, tmp_path):
    import torch

    path = tmp_path / "c.pth"
    torch.save({"params": {"a.weight": torch.zeros(2, 3)}}, path)
    result = run_cli("models", "inspect", "--weights", path, "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["state_dict"] == {"a.weight": [2, 3]}


def test_unknown_model_suggests(run_cli):
    result = run_cli("models", "inspect", "tinytest")
    assert result.code == 2
    assert result.stderr.count("\n") == 1 and "did you mean tiny.test" in result.stderr


def test_bad_option_value_is_a_usage_error(run_cli, tmp_path):
    result = run_cli("restore", tmp_path / "x.mp4", "--crf", "99")
    assert result.code == 2
    assert "Traceback" not in result.stderr


def test_main_gives_back_the_logger_and_signal_set_up(run_cli, small_video, tmp_path):
    """In-process callers (and later tests) must not inherit a silenced ``vrestore`` logger or our SIGTERM handler."""
    import logging
    import signal

    logger = logging.getLogger("vrestore")
    before = (logger.level, logger.propagate, list(logger.handlers), signal.getsignal(signal.SIGTERM))
    result = run_cli("restore", small_video, tmp_path / "out.mp4", "--model", "tiny.test")
    assert result.code == 0
    assert (logger.level, logger.propagate, list(logger.handlers), signal.getsignal(signal.SIGTERM)) == before
