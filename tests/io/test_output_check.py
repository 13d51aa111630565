"""check_output: where an output may be written (never over the input, a missing folder or an existing file)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import assert_one_line_message
from vrestore.errors import OutputError
from vrestore.io.info import VideoInfo
from vrestore.io.output_check import check_output


def _source(tmp_path: Path) -> VideoInfo:
    path = tmp_path / "in.mp4"
    path.write_bytes(b"not really a video")
    return VideoInfo(source=str(path), kind="video", width=64, height=48)


def test_check_output_refuses_the_input_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    info = _source(tmp_path)
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    with pytest.raises(OutputError, match="input"):
        check_output(Path("../in.mp4"), info, overwrite=True)
    (tmp_path / "link.mp4").symlink_to(tmp_path / "in.mp4")
    with pytest.raises(OutputError, match="input"):
        check_output(tmp_path / "link.mp4", info, overwrite=True)


def test_check_output_existing_file(tmp_path: Path) -> None:
    info = _source(tmp_path)
    (tmp_path / "out.mkv").write_bytes(b"x")
    with pytest.raises(OutputError, match="exists; pass --overwrite") as excinfo:
        check_output(tmp_path / "out.mkv", info, overwrite=False)
    assert_one_line_message(excinfo, "out.mkv")
    check_output(tmp_path / "out.mkv", info, overwrite=True)


def test_check_output_missing_parent(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        check_output(tmp_path / "nope" / "out.mp4", _source(tmp_path), overwrite=False)


def test_check_output_read_only_folder(tmp_path: Path, read_only_folder: Path) -> None:
    with pytest.raises(OutputError, match="not writable"):
        check_output(read_only_folder / "out.mp4", _source(tmp_path), overwrite=False)


def test_check_output_unwritable_folder_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "access", lambda *args, **kwargs: False)  # what a read-only folder looks like
    with pytest.raises(OutputError, match="not writable"):
        check_output(tmp_path / "out.mp4", None, overwrite=False)


def test_check_output_extensions(tmp_path: Path) -> None:
    info = _source(tmp_path)
    with pytest.raises(OutputError, match=r"\.avi"):
        check_output(tmp_path / "out.avi", info, overwrite=False)
    for name in ("a.mp4", "b.MKV", "c.mov", "d.webm", "frames"):
        check_output(tmp_path / name, info, overwrite=False)
    check_output(str(tmp_path / "frames.v1") + "/", info, overwrite=False)
    (tmp_path / "frames").mkdir()
    with pytest.raises(OutputError, match="exists"):
        check_output(tmp_path / "frames", info, overwrite=False)
