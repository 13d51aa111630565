"""Run the real CLI in-process for the reliability tests (the CLI tests' runner, under a shorter name)."""

from __future__ import annotations

import pytest

from tests.cli.conftest import run_cli  # noqa: F401  (makes the fixture visible here)


@pytest.fixture()
def cli(run_cli):  # noqa: F811
    """``vrestore ARGS`` in-process: exit code, stdout and stderr."""
    return run_cli
