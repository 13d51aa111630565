"""The package's import rules (docs/design-notes.md), checked on the source so that a stray import fails here."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vrestore"


def imported_modules(path: Path) -> set[str]:
    """Every module name ``path`` imports (absolute names; relative imports resolved against the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = path.is_relative_to(PACKAGE)  # relative imports outside the package (none today) count by name
    package = ".".join(("vrestore", *path.relative_to(PACKAGE).parent.parts)) if inside else path.parent.name
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.add(f"{base}.{node.module}" if node.module else base)
            elif node.module:
                names.add(node.module)
    return names


def modules_under(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py")) if folder else sorted(PACKAGE.rglob("*.py"))


def offenders(paths: list[Path], forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in paths:
        for name in imported_modules(path):
            if any(name == f or name.startswith(f + ".") for f in forbidden):
                found.append(f"{path.relative_to(PACKAGE.parent)} imports {name}")
    return found


def outside(folder: str) -> list[Path]:
    return [p for p in modules_under("") if not p.is_relative_to(PACKAGE / folder)]


@pytest.mark.parametrize(
    ("paths", "forbidden", "rule"),
    [
        (lambda: outside("io"), ("av",), "only vrestore/io imports PyAV"),
        (lambda: outside("cli"), ("rich", "typer", "click"), "only vrestore/cli prints with rich / parses with typer"),
        (lambda: modules_under("engine"), ("vrestore.io", "av"), "the engine sees tensors, never containers"),
        (lambda: modules_under("io"), ("vrestore.engine", "torch"), "io knows nothing of models or tensors"),
        (lambda: modules_under("models"), ("vrestore.io", "vrestore.engine", "av"), "models know nothing of files"),
    ],
    ids=["av", "cli", "engine", "io", "models"],
)
def test_import_rule(paths, forbidden: tuple[str, ...], rule: str) -> None:
    found = offenders(paths(), forbidden)
    assert not found, f"{rule}: " + "; ".join(found)


def test_the_checker_sees_imports() -> None:
    # A rule that cannot fail proves nothing: the checker must find both import forms.
    names = imported_modules(PACKAGE / "engine" / "runner.py")
    assert "torch" in names and any(n.startswith("vrestore.") for n in names)
    assert offenders([PACKAGE / "engine" / "runner.py"], ("torch",))


@pytest.mark.parametrize("folder", ["scripts", "benchmarks"])
def test_scripts_and_benchmarks_do_not_import_the_tests(folder: str) -> None:
    # What a script needs (seeded weights, reference ops) lives in the package: tests/ is not installed.
    paths = sorted((PACKAGE.parent / folder).glob("*.py"))
    assert paths
    found = [f"{path.relative_to(PACKAGE.parent)} imports {name}" for path in paths
             for name in imported_modules(path) if name == "tests" or name.startswith("tests.")]
    assert not found, "; ".join(found)


def test_scoring_on_the_cpu_imports_no_torch() -> None:
    # The metrics library scores with numpy and OpenCV on the CPU; importing torch would cost seconds per run.
    code = ("import sys, vrestore.metrics.video, vrestore.metrics.report; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
