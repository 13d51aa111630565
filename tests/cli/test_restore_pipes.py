"""``vrestore restore - OUT`` and ``restore IN -``: y4m through pipes, as separate processes (what shells see).

The pipe's frames are compared with the file-to-file path (``--codec ffv1``, lossless RGB) in the y4m's own
YUV layout: y4m carries YUV, so a comparison in RGB would measure the YUV round trip, not the pipe.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.cli.test_bad_input import assert_one_line_error
from tests.conftest import gradient_images, write_clip
from tests.io.test_pipes import write_y4m

TINY = ("--model", "tiny.test")


def run_piped(*args: str, stdin: bytes | Path = b"", timeout: float = 120) -> subprocess.CompletedProcess:
    """``python -m vrestore ARGS`` with ``stdin`` (bytes, or a file to feed) and binary stdout."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    command = [sys.executable, "-m", "vrestore", *map(str, args)]
    if isinstance(stdin, Path):
        with stdin.open("rb") as source:
            return subprocess.run(command, stdin=source, capture_output=True, timeout=timeout, env=env)
    return subprocess.run(command, input=stdin, capture_output=True, timeout=timeout, env=env)


def y4m_planes(data: bytes) -> tuple[str, list[np.ndarray]]:
    """The pixel format and the frames (planes stacked as ``to_ndarray`` gives them) of a y4m stream."""
    with av.open(io.BytesIO(data)) as container:
        frames = list(container.decode(video=0))
    return frames[0].format.name, [frame.to_ndarray() for frame in frames]


def reference_planes(path: Path, pix_fmt: str) -> list[np.ndarray]:
    """The frames of a lossless RGB output converted to ``pix_fmt`` as the writer does (BT.601 below 720
    lines, limited range)."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    rgb = "rgb48le" if "10" in pix_fmt else "rgb24"
    return [
        frame.reformat(format=rgb).reformat(format=pix_fmt, src_colorspace="ITU601", dst_colorspace="ITU601",
                                            src_color_range="JPEG", dst_color_range="MPEG",
                                            interpolation="BICUBIC").to_ndarray()
        for frame in frames
    ]


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pipes")
    return {
        "8": write_y4m(folder / "in8.y4m", gradient_images(6, 64, 48), "yuv420p", Fraction(30000, 1001)),
        "10": write_y4m(folder / "in10.y4m", gradient_images(6, 64, 48, deep=True), "yuv420p10le"),
    }


@pytest.mark.parametrize(
    ("depth", "pix_fmt", "header"), [("8", "yuv420p", "C420jpeg"), ("10", "yuv420p10le", "C420p10")]
)
def test_stdin_to_stdout_equals_the_file_path(clips, tmp_path: Path, depth: str, pix_fmt: str, header: str) -> None:
    source = clips[depth]
    piped = run_piped("restore", "-", "-", *TINY, stdin=source)
    assert piped.returncode == 0, piped.stderr.decode()
    first_line = piped.stdout.split(b"\n", 1)[0].decode()
    assert first_line.startswith("YUV4MPEG2 W64 H48 F30000:1001" if depth == "8" else "YUV4MPEG2 W64 H48 F25:1")
    assert f" {header} " in first_line + " "
    assert b"restored stdin -> stdout" in piped.stderr and b"Traceback" not in piped.stderr  # the report goes to stderr

    reference = tmp_path / "ref.mkv"
    filed = run_piped("restore", source, reference, "--codec", "ffv1", *TINY)
    assert filed.returncode == 0, filed.stderr.decode()

    got_format, got = y4m_planes(piped.stdout)
    expected = reference_planes(reference, pix_fmt)
    _, original = y4m_planes(source.read_bytes())
    assert got_format == pix_fmt  # 10-bit stays 10-bit
    assert len(got) == len(expected) == 6
    for restored, wanted, before in zip(got, expected, original, strict=True):
        assert np.abs(restored.astype(int) - wanted.astype(int)).max() <= 1
        assert not np.array_equal(restored, before)  # the model ran: not a pass-through


def test_stdin_to_a_file_loses_no_frame(clips, tmp_path: Path) -> None:
    # The probe reads the first frames of stdin; the reader must still get every one of them.
    piped_out, filed_out = tmp_path / "piped.mkv", tmp_path / "filed.mkv"
    piped = run_piped("restore", "-", piped_out, "--codec", "ffv1", *TINY, stdin=clips["10"])
    assert piped.returncode == 0, piped.stderr.decode()
    assert run_piped("restore", clips["10"], filed_out, "--codec", "ffv1", *TINY).returncode == 0
    a, b = reference_planes(piped_out, "yuv420p10le"), reference_planes(filed_out, "yuv420p10le")
    assert len(a) == len(b) == 6
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))


def test_a_reader_that_closes_early_gives_a_clean_exit(tmp_path: Path) -> None:
    # 200 frames (about 1 MB of y4m) cannot fit in the pipe's buffer, so the writer is still writing when
    # the reader goes away.
    source = write_y4m(tmp_path / "long.y4m", gradient_images(200, 64, 48), "yuv420p")
    process = subprocess.Popen(
        [sys.executable, "-m", "vrestore", "restore", source, "-", *TINY],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.read(1000).startswith(b"YUV4MPEG2")
    process.stdout.close()  # what `| head -c 1000` does
    stderr = process.stderr.read().decode()
    code = process.wait(timeout=120)
    assert code == 141, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "closed the pipe" in lines[0], stderr


def test_audio_is_reported_lost_only_when_there_was_some(tmp_path: Path) -> None:
    silent = write_clip(tmp_path / "silent.mkv", gradient_images(3, 64, 48))
    loud = write_clip(tmp_path / "loud.mkv", gradient_images(3, 64, 48), audio=True)
    quiet_run = run_piped("restore", silent, "-", *TINY)
    loud_run = run_piped("restore", loud, "-", *TINY)
    assert quiet_run.returncode == loud_run.returncode == 0
    assert b"warning" not in quiet_run.stderr and b"left out" not in quiet_run.stderr
    assert b"1 audio/subtitle stream(s) of the input are left out" in loud_run.stderr
    # Matroska through stdin: the one warning says why, and stdout still gets every frame.
    loud_pipe = run_piped("restore", "-", "-", *TINY, stdin=loud)
    assert loud_pipe.returncode == 0, loud_pipe.stderr.decode()
    assert loud_pipe.stderr.decode().count("warning:") == 1 and b"of stdin are not kept" in loud_pipe.stderr
    assert len(y4m_planes(loud_pipe.stdout)[1]) == 3


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("-",), "needs an output"),
        (("-", "out.mkv", "--resume"), "--resume cannot be used with '-'"),
        (("in.y4m", "-", "--skip-existing"), "--skip-existing cannot be used with '-'"),
        (("-", "-o", "outdir"), "cannot be part of a batch"),
        (("a.y4m", "-", "-o", "outdir"), "cannot be part of a batch"),
        (("in.y4m", "-", "--json"), "--json prints on stdout"),
        (("in.y4m", "-", "--preview", "4"), "--preview cannot be used with '-'"),
    ],
)
def test_options_a_pipe_cannot_take_are_refused(run_cli, args: tuple[str, ...], fragment: str) -> None:
    # Refused before stdin is read or the model loaded (in-process: stdin is pytest's).
    assert_one_line_error(run_cli("restore", *args, *TINY), 2, fragment)


def test_stdout_refuses_encoder_options(clips) -> None:
    result = run_piped("restore", clips["8"], "-", "--codec", "libx264", *TINY)
    assert result.returncode == 2
    assert result.stdout == b"" and result.stderr.decode().count("\n") == 1
    assert "--codec does not apply to output '-'" in result.stderr.decode()
