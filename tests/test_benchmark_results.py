"""benchmarks/_results.py: the one writer of benchmark results files, and every benchmark using it."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from benchmarks import _results

BENCHMARKS = Path(_results.__file__).parent


def test_file_names_are_those_of_the_results_already_there():
    named = _results.results_path("eval_speed", "ffv1", "cpu", date="2026-11-23").name
    assert named == "eval_speed-2026-11-23-ffv1-cpu.md"
    assert _results.results_path("cpu_speed", date="2026-12-05").name == "cpu_speed-2026-12-05.md"
    assert _results.results_path("quality", dated=False).name == "quality.md"
    assert _results.results_path("synth_speed").name == f"synth_speed-{_results.today()}.md"
    for name in ("eval_speed-2026-11-23-ffv1-cpu.md", "cpu_speed-2026-12-05.md", "quality.md"):
        assert (_results.RESULTS / name).is_file()


def test_write_results_makes_the_folder_writes_the_text_as_given_and_says_where(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(_results, "RESULTS", tmp_path / "results")
    path = _results.write_results("# title\n\n- device: x", "speed", "tiny.test", "cpu", date="2026-01-02")
    assert path == tmp_path / "results" / "speed-2026-01-02-tiny.test-cpu.md"
    assert path.read_text(encoding="utf-8") == "# title\n\n- device: x"
    assert capsys.readouterr().out == f"wrote {path}\n"
    given = tmp_path / "elsewhere" / "mine.md"
    assert _results.write_results("é", "speed", out=given) == given and given.read_text(encoding="utf-8") == "é"


def test_command_is_the_argv_of_this_run(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["benchmarks/quality.py", "--data", "a b"])
    assert _results.command() == "python benchmarks/quality.py --data a b"
    assert _results.command(quote=True) == "python benchmarks/quality.py --data 'a b'"


# Modules named _*.py are helpers of the benchmarks (results, baselines), not benchmarks.
@pytest.mark.parametrize("path", sorted(p for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_")), ids=str)
def test_every_benchmark_writes_through_write_results(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module == "benchmarks._results"
                for a in n.names}
    assert "write_results" in imported
    writes = [n.lineno for n in ast.walk(tree)
              if isinstance(n, ast.Attribute) and n.attr in ("write_text", "write_bytes")]
    assert not writes, f"{path.name} writes a file itself at lines {writes}"
