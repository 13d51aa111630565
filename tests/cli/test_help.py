"""Every help screen names values the way users write them, never as Python types."""

from __future__ import annotations

import re

import pytest
import typer

from vrestore.cli import app

# The type column Typer fills in when nobody named the value: <bool>, <str>, <int range>, <list[Path]>, ...
PYTHON_TYPE = re.compile(r"<(bool|str|int|float|path|file|dir|text|uuid|datetime|int range|float range)>|list\[")


def _command_paths(command, prefix=()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        paths += _command_paths(sub, (*prefix, name))
    return paths


COMMANDS = _command_paths(typer.main.get_command(app))


def test_every_command_is_checked():
    assert {("restore",), ("models", "list"), ("train", "run"), ("eval",)} <= set(COMMANDS)


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "vrestore")
def test_help_shows_no_python_types(run_cli, monkeypatch, path):
    monkeypatch.setenv("COLUMNS", "200")  # one line per option, so that a match is easy to read
    result = run_cli(*path, "--help")
    assert result.code == 0, result.stderr
    found = sorted({m.group(0) for m in PYTHON_TYPE.finditer(result.stdout)})
    assert not found, f"'vrestore {' '.join(path)} --help' shows {found}:\n{result.stdout}"


def test_restore_help_names_values_and_encoder_defaults(run_cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    out = run_cli("restore", "--help").stdout
    for shown in ("--model", "ID", "fp32|fp16|bf16", "--tile", "N", "K/N", "[default: pgdenet]"):
        assert shown in out
    text = " ".join(out.replace("│", " ").split())  # the help as one line, whatever the wrapping
    assert "(default: libx264 for .mp4/.mov/.mkv, libx265 for 10-bit and deeper sources, libvpx-vp9 for .webm)" in text
    assert "default: 16 for libx264, 18 for libx265, 20 for libvpx-vp9" in text
    assert "default: medium for libx264 and libx265" in text


def test_help_and_eval_do_not_import_torch():
    """`vrestore --help` and `vrestore eval` must not pay torch's ~2 s import (commands import it when they run)."""
    import subprocess
    import sys

    probe = "import sys, vrestore.cli; print(sorted(m for m in ('torch', 'torchvision') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
