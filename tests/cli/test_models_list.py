"""``vrestore models list``: whole ids in a pipe and in a narrow terminal, and which model restore uses."""

from __future__ import annotations

import io
import json

import pytest
from rich.console import Console

from vrestore.cli import _console
from vrestore.models import list_models

IDS = [spec.id for spec in list_models()]


def test_piped_output_has_one_plain_line_per_model(run_cli):
    result = run_cli("models", "list")  # captured: stdout is no terminal, as in 'vrestore models list | grep'
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sum("rvrt.denoise-davis" in line for line in lines) == 1  # what 'grep -c rvrt.denoise-davis' counts
    assert sorted(line.split()[0] for line in lines[1:-1]) == sorted(IDS)
    assert "…" not in result.stdout and "\x1b[" not in result.stdout
    assert lines[0].split()[:2] == ["id", "alias"]
    default = next(line for line in lines if line.startswith("pgdenet.mc "))
    assert default.split()[1] == "pgdenet"
    assert lines[-1].startswith("restore uses pgdenet.mc when --model is not given")


def test_an_80_column_terminal_folds_descriptions_never_ids(run_cli, monkeypatch):
    screen = io.StringIO()
    terminal = Console(file=screen, width=80, force_terminal=True, color_system=None, highlight=False,
                       soft_wrap=True)
    monkeypatch.setattr(_console, "stdout", terminal)
    result = run_cli("models", "list")
    assert result.code == 0, result.stderr
    lines = screen.getvalue().splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines)
    assert "…" not in screen.getvalue()
    footer = next(i for i, line in enumerate(lines) if line.startswith("restore uses pgdenet.mc when --model"))
    heads = [line.split()[0] for line in lines[:footer] if not line.startswith(" ")]
    assert heads == IDS  # each id whole, at the start of its block
    default = lines.index(next(line for line in lines if line.startswith("pgdenet.mc ")))
    assert "alias pgdenet" in lines[default]
    assert "restore uses this model when --model is not given" in lines[default + 1]
    assert sum("restore uses this model" in line for line in lines) == 1


def test_json_names_aliases_and_the_restore_default(run_cli):
    rows = {row["id"]: row for row in json.loads(run_cli("models", "list", "--json").stdout)}
    assert [mid for mid, row in rows.items() if row["restore_default"]] == ["pgdenet.mc"]
    assert rows["pgdenet.mc"]["alias"] == "pgdenet" and rows["rvrt.sr-reds-x4"]["alias"] == "rvrt"
    assert rows["pgdenet.official"]["alias"] is None and rows["pgdenet.official"]["weights"] == "needs --weights"


@pytest.mark.parametrize("pattern", ["rvrt.*", "nothing.*"])
def test_a_pattern_lists_only_its_models(run_cli, pattern):
    result = run_cli("models", "list", pattern)
    assert result.code == 0, result.stderr
    shown = [line.split()[0] for line in result.stdout.splitlines()[1:-1]]
    if pattern == "nothing.*":
        assert "no registered model matches 'nothing.*'" in result.stdout
    else:
        assert shown == [mid for mid in IDS if mid.startswith("rvrt.")]


def test_checkpoint_commands_suggest_the_closest_id(run_cli):
    result = run_cli("models", "download", "pgdenet.td")
    assert result.code == 2 and "unknown model or checkpoint 'pgdenet.td'; did you mean pgdenet.tud?" in result.stderr
