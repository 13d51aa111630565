"""Fixtures for driving the real CLI, in-process (fast) or as a subprocess (signals, exit codes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import make_video
from vrestore.cli import main


@dataclass
class CliResult:
    code: int
    stdout: str
    stderr: str


@pytest.fixture()
def run_cli(capsys):
    """Run ``vrestore ARGS`` in-process; returns exit code and captured output."""

    def run(*args: str) -> CliResult:
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture()
def small_video(tmp_path) -> Path:
    return make_video(tmp_path / "small.mp4")
