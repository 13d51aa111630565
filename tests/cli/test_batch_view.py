"""``restore`` on a terminal: the download bar, then one progress bar per input, then the result lines."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from tests.cli.test_models_cli import MODEL, checkpoint  # noqa: F401  (fixture)
from tests.helpers import make_video
from tests.weights.fileserver import file_server  # noqa: F401  (fixture)
from vrestore.cli import _console


@pytest.fixture()
def terminal_stderr(monkeypatch) -> io.StringIO:
    screen = io.StringIO()
    monkeypatch.setattr(_console, "stderr", Console(file=screen, force_terminal=True, color_system=None, width=300))
    return screen


def test_a_batch_on_a_terminal_shows_one_bar_at_a_time(run_cli, checkpoint, tmp_path, terminal_stderr):  # noqa: F811
    clips = [make_video(tmp_path / f"{name}.mp4", frames=3, size=(32, 32)) for name in ("a", "b")]
    bad = tmp_path / "c.mp4"
    bad.write_bytes(b"")
    result = run_cli("restore", *clips, bad, "-o", tmp_path / "out", "--model", MODEL,
                     "--device", "cpu", "-k", "--preview", "2")
    assert result.code == 3, result.stderr
    shown = terminal_stderr.getvalue()
    order = [shown.index(text) for text in (f"downloading {MODEL}", f"using {MODEL} with weights",
                                            "restoring a.mp4 (1/3)", "restoring b.mp4 (2/3)", f"error: {bad}: ")]
    assert order == sorted(order), shown
    out = tmp_path / "out"
    assert [line.split(": ")[0] for line in result.stdout.splitlines()] == [
        "preview of a.mp4", f"restored {clips[0]} -> {out / 'a.mp4'}",
        "preview of b.mp4", f"restored {clips[1]} -> {out / 'b.mp4'}",
        "2 restored, 0 skipped, 1 failed",
    ]
