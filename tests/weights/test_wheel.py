"""weights.toml ships inside the wheel: importlib.resources finds it in a non-editable install."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_PROBE = (
    "import sys; sys.path.insert(0, sys.argv[1]); import vrestore; "
    "from vrestore.weights.manifest import load_manifest, manifest_text; "
    "assert vrestore.__file__.startswith(sys.argv[1]), vrestore.__file__; "
    "load_manifest(); print(len(manifest_text()))"
)


def _pip(*args: str, cwd: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", *args, "--no-deps", "--no-index", "-q"], cwd=cwd,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def test_manifest_is_found_in_an_installed_wheel(tmp_path):
    # Build from a copy so that the build leaves nothing in the repository (build/, egg-info).
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "vrestore", src / "vrestore", ignore=shutil.ignore_patterns("__pycache__"))
    _pip("wheel", str(src), "--no-build-isolation", "-w", str(tmp_path / "dist"), cwd=tmp_path)
    (wheel,) = (tmp_path / "dist").glob("vrestore-*.whl")
    assert "vrestore/weights.toml" in zipfile.ZipFile(wheel).namelist()

    site = tmp_path / "site"
    _pip("install", "--target", str(site), str(wheel), cwd=tmp_path)
    # -S: no site-packages, so the editable install of the repository cannot be picked up instead.
    probe = subprocess.run([sys.executable, "-S", "-c", _PROBE, str(site)], cwd=tmp_path, capture_output=True,
                           text=True, timeout=60)
    assert probe.returncode == 0, probe.stderr
    assert int(probe.stdout) == len((REPO / "vrestore" / "weights.toml").read_text(encoding="utf-8"))
