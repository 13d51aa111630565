"""The bad-input corpus: for each case the documented exit code, one clear stderr line, nothing left under
the final name, and the input unchanged."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import av
import pytest

from tests.helpers import assert_one_line_error
from tests.reliability.corpus import CASES

# case -> (exit code, fragment of the one error line; None = success)
EXPECTED: dict[str, tuple[int, str | None]] = {
    "empty": (3, "is empty (0 bytes)"),
    "random-bytes": (3, "cannot be opened as a video"),
    "text-as-mp4": (3, "cannot be opened as a video"),
    "truncated-mp4": (3, "cannot be opened as a video"),
    "audio-only": (3, "has no video stream"),
    "zero-frames": (3, "cannot be opened as a video"),
    "1x1": (0, None),
    "4097x17": (0, None),
    "broken-frame": (0, None),  # the decoder conceals the damaged packets; the restore completes
    "mixed-size-frames": (3, "all frames must match"),
}


def digest(path: Path) -> str:
    """Hash of a file, or of every file in a folder."""
    h = hashlib.sha256()
    for file in sorted(path.rglob("*")) if path.is_dir() else [path]:
        h.update(file.name.encode())
        h.update(file.read_bytes())
    return h.hexdigest()


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_corpus_case(cli, tmp_path, case):
    source = CASES[case](tmp_path)
    before = digest(source)
    output = tmp_path / "out.mkv"
    result = cli("restore", source, output, "--model", "tiny.test", "--quiet")
    code, fragment = EXPECTED[case]
    if fragment is None:
        assert result.code == 0, result.stderr
        assert "Traceback" not in result.stderr
        with av.open(str(output)) as restored:
            assert sum(1 for _ in restored.decode(video=0)) > 0
    else:
        assert_one_line_error(result, code, fragment)
        assert not output.exists()
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []  # no *.part left
    assert digest(source) == before


def test_path_with_spaces_and_unicode(cli, tmp_path):
    folder = tmp_path / "my clips ü 日本"
    folder.mkdir()
    source = CASES["1x1"](folder).rename(folder / "vidéo 1 ✓.mkv")
    result = cli("restore", source, "-o", tmp_path / "sortie é", "--model", "tiny.test", "--json")
    assert result.code == 0, result.stderr
    assert (tmp_path / "sortie é" / "vidéo 1 ✓.mkv").is_file()


def test_output_folder_is_a_file(cli, tmp_path):
    source = CASES["1x1"](tmp_path)
    blocker = tmp_path / "restored"
    blocker.write_text("a file where the output folder should be")
    result = cli("restore", source, "-o", blocker, "--model", "tiny.test")
    assert_one_line_error(result, 4, "cannot create output folder")


def test_read_only_output_folder_of_a_batch(cli, tmp_path, read_only_folder):
    source = CASES["1x1"](tmp_path)
    result = cli("restore", source, "-o", read_only_folder, "--model", "tiny.test")
    assert_one_line_error(result, 4, "not writable")
    assert list(read_only_folder.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files without read permission")
def test_unreadable_input(cli, tmp_path):
    source = CASES["1x1"](tmp_path)
    source.chmod(0)
    try:
        result = cli("restore", source, tmp_path / "out.mkv", "--model", "tiny.test")
    finally:
        source.chmod(0o600)
    assert result.code == 3 and "Traceback" not in result.stderr


def test_disk_full_while_writing_is_an_output_error(cli, tmp_path, monkeypatch):
    """Simulated ENOSPC from the muxer (as FFmpeg reports it): exit 4, one line, no partial file left."""
    import errno

    from vrestore.io.writer import VideoWriter

    def full(self, vframe):
        raise av.error.OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(VideoWriter, "_encode", full)
    source = CASES["1x1"](tmp_path)
    before = digest(source)
    result = cli("restore", source, tmp_path / "out.mkv", "--model", "tiny.test")
    assert_one_line_error(result, 4, "No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.mkv"]
    assert digest(source) == before
