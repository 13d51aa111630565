"""Run the real CLI in-process for the reliability tests."""

from __future__ import annotations

import pytest

from tests.cli.conftest import CliResult
from vrestore.cli import main


@pytest.fixture()
def cli(capsys):
    """``vrestore ARGS`` in-process: exit code, stdout and stderr."""

    def run(*args: object) -> CliResult:
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run
