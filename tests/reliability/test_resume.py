"""``vrestore restore --resume``: interrupt a restore, continue it, and get the uninterrupted output.

The acceptance test sends a real SIGTERM to a subprocess at about half way; the others interrupt in-process
(a progress callback raising KeyboardInterrupt after N frames, as Ctrl-C would) to stay fast.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from tests.conftest import gradient_images, write_clip
from tests.helpers import assert_one_line_error, leftovers, sha256
from vrestore.cli import _console

FRAMES = 36
# pgdenet.test is a temporal model with key frames every 6 frames; clip 12 / overlap 6 gives windows at
# 0, 6, ..., 24, so an interrupt half way falls after several windows and resumes inside the video.
PGDE = ("-m", "pgdenet.test", "--clip", "12", "--clip-overlap", "6", "--codec", "ffv1", "--quiet")
TINY = ("-m", "tiny.test", "--codec", "ffv1", "--quiet")

# Runs the real CLI, slowed down from frame HALF on and announcing it in MARKER, so that the test can
# send SIGTERM half way without timing assumptions.
LAUNCHER = """
import sys, time, pathlib
from contextlib import contextmanager
import vrestore.cli._console as console
marker, half = pathlib.Path(sys.argv[1]), int(sys.argv[2])

@contextmanager
def progress(description, total, enabled):
    written = [0]

    def update(done, total, elapsed, computed=None, preparing=None):
        if done >= half and done != written[0]:  # once per written frame, not per report of the model
            written[0] = done
            marker.write_text(str(done))
            time.sleep(0.3)
    yield update

console.frame_progress = progress
from vrestore.cli import main
main(sys.argv[3:])
"""


def _source(folder: Path, name: str = "in.mkv", frames: int = FRAMES) -> Path:
    """A VFR H.264 clip with AAC audio (irregular timestamps must survive the splice)."""
    pts = [i * 42 + (i % 3) * 5 for i in range(frames)]
    return write_clip(folder / name, gradient_images(frames, 64, 48), codec="libx264", audio=True,
                      pts=pts, time_base=Fraction(1, 1000))


def _video(path: Path) -> list[tuple[int, np.ndarray]]:
    with av.open(str(path)) as container:
        return [(f.pts, f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]


def _audio(path: Path) -> list[tuple[bytes, int]]:
    with av.open(str(path)) as container:
        return [(bytes(p), p.pts) for p in container.demux(container.streams.audio[0]) if p.size]


def _assert_same_output(got: Path, want: Path) -> None:
    a, b = _video(got), _video(want)
    assert len(a) == len(b)
    assert [pts for pts, _ in a] == [pts for pts, _ in b]
    for i, ((_, x), (_, y)) in enumerate(zip(a, b, strict=True)):
        assert np.array_equal(x, y), f"frame {i} differs"
    assert _audio(got) == _audio(want)


def _kept(output: Path) -> tuple[Path, Path]:
    part = output.with_name(f".{output.name}.part{output.suffix}")
    return part, part.with_name(part.name + ".json")


@contextmanager
def _interrupt_after(frames: int):
    """In-process Ctrl-C after ``frames`` frames were written (the CLI's progress callback raises)."""
    original = _console.frame_progress

    @contextmanager
    def progress(description, total, enabled):
        def update(done, total, elapsed, computed=None, preparing=None):
            if done >= frames:
                raise KeyboardInterrupt
        yield update

    _console.frame_progress = progress
    try:
        yield
    finally:
        _console.frame_progress = original


def test_sigterm_then_resume_equals_an_uninterrupted_run(cli, tmp_path):
    source = _source(tmp_path)
    digest = sha256(source)
    reference = tmp_path / "ref.mkv"
    assert cli("restore", source, reference, *PGDE).code == 0

    output = tmp_path / "out.mkv"
    marker = tmp_path / "half"
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, str(marker), str(FRAMES // 2),
         "restore", str(source), str(output), *PGDE, "--resume"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not marker.exists() and proc.poll() is None:
        time.sleep(0.05)
    assert proc.poll() is None, f"the restore ended before it could be interrupted: {proc.communicate()}"
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "terminated" in err and "--resume" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1, err
    part, state = _kept(output)
    assert not output.exists()
    assert part.is_file() and state.is_file()
    done = json.loads(state.read_text())["frames_done"]
    assert FRAMES // 2 <= done < FRAMES
    assert len(_video(part)) == done  # the kept part is a valid container of exactly those frames

    result = cli("restore", source, output, *PGDE, "--resume")
    assert result.code == 0, result.stderr
    _assert_same_output(output, reference)
    assert leftovers(tmp_path, {"in.mkv", "ref.mkv", "out.mkv", "half"}) == []
    assert sha256(source) == digest


def test_interrupt_without_resume_removes_the_partial_output(cli, tmp_path):
    source = _source(tmp_path, frames=20)
    with _interrupt_after(10):
        result = cli("restore", source, tmp_path / "out.mkv", *TINY)
    assert result.code == 130
    assert "the partial output was removed" in result.stderr
    assert leftovers(tmp_path, {"in.mkv"}) == []


def test_ctrl_c_resume_twice_then_finish(cli, tmp_path):
    """A resumed run interrupted again keeps the longer part; the final output is still exact."""
    source = _source(tmp_path, frames=40)
    reference = tmp_path / "ref.mkv"
    assert cli("restore", source, reference, *TINY).code == 0
    output = tmp_path / "out.mkv"
    part, state = _kept(output)
    with _interrupt_after(12):
        first = cli("restore", source, output, *TINY, "--resume")
    assert first.code == 130 and "kept the partial output" in first.stderr, first.stderr
    assert json.loads(state.read_text())["frames_done"] == 12
    with _interrupt_after(27):
        second = cli("restore", source, output, *TINY, "--resume")
    assert second.code == 130
    assert json.loads(state.read_text())["frames_done"] == 27
    with _interrupt_after(3):  # stopped before passing the part: the part is kept as it was
        third = cli("restore", source, output, *TINY, "--resume")
    assert third.code == 130
    assert json.loads(state.read_text())["frames_done"] == 27 and len(_video(part)) == 27
    assert not output.exists()
    assert cli("restore", source, output, *TINY, "--resume").code == 0
    _assert_same_output(output, reference)
    assert leftovers(tmp_path, {"in.mkv", "ref.mkv", "out.mkv"}) == []


def test_other_options_are_refused_then_a_plain_run_starts_over(cli, tmp_path):
    source = _source(tmp_path, frames=20)
    output = tmp_path / "out.mkv"
    part, state = _kept(output)
    with _interrupt_after(10):
        assert cli("restore", source, output, *TINY, "--resume").code == 130
    before = sha256(part)
    result = cli("restore", source, output, "-m", "tiny.test", "--codec", "libx264", "--quiet", "--resume")
    assert_one_line_error(result, 2, "other options", "encode")
    assert sha256(part) == before and state.exists() and not output.exists()
    # Without --resume the user starts over: the part and its state are replaced, then removed.
    assert cli("restore", source, output, "-m", "tiny.test", "--quiet").code == 0
    assert leftovers(tmp_path, {"in.mkv", "out.mkv"}) == []


def test_changed_input_is_refused(cli, tmp_path):
    source = _source(tmp_path, frames=20)
    output = tmp_path / "out.mkv"
    with _interrupt_after(10):
        assert cli("restore", source, output, *TINY, "--resume").code == 130
    os.utime(source, ns=(0, 0))
    result = cli("restore", source, output, *TINY, "--resume")
    assert result.code == 2 and "input" in result.stderr and "changed" in result.stderr


def test_resume_with_nothing_to_resume_is_a_normal_run(cli, tmp_path):
    source = _source(tmp_path, frames=12)
    digest = sha256(source)
    reference = tmp_path / "ref.mkv"
    assert cli("restore", source, reference, *TINY).code == 0
    result = cli("restore", source, tmp_path / "out.mkv", *TINY, "--resume", "--json")
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[0])["status"] == "ok"
    _assert_same_output(tmp_path / "out.mkv", reference)
    assert leftovers(tmp_path, {"in.mkv", "ref.mkv", "out.mkv"}) == []
    assert sha256(source) == digest


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [(("--temporal-smooth", "0.5"), "--temporal-smooth"), ((), "PNG folder")],
    ids=["temporal-smooth", "png-folder"],
)
def test_unresumable_combinations_are_usage_errors(cli, tmp_path, extra, fragment):
    source = _source(tmp_path, frames=6)
    output = tmp_path / ("out.mkv" if extra else "frames")
    result = cli("restore", source, output, "-m", "tiny.test", "--resume", *extra)
    assert result.code == 2 and fragment in result.stderr
    assert leftovers(tmp_path, {"in.mkv"}) == []


def test_batch_resume_with_skip_existing(cli, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    _source(inputs, "a.mkv", frames=8)
    _source(inputs, "b.mkv", frames=20)
    out = tmp_path / "out"
    with _interrupt_after(10):  # the progress count restarts per file: a (8 frames) completes, b stops at 10
        first = cli("restore", inputs, "-o", out, *TINY, "--resume")
    assert first.code == 130, first.stderr
    assert sorted(p.name for p in out.iterdir()) == [".b.mkv.part.mkv", ".b.mkv.part.mkv.json", "a.mkv"]
    result = cli("restore", inputs, "-o", out, *TINY, "--resume", "--skip-existing", "--json")
    assert result.code == 0, result.stderr
    assert [json.loads(line)["status"] for line in result.stdout.splitlines()] == ["skipped", "ok"]
    assert sorted(p.name for p in out.iterdir()) == ["a.mkv", "b.mkv"]
    reference = tmp_path / "ref.mkv"
    assert cli("restore", inputs / "b.mkv", reference, *TINY).code == 0
    _assert_same_output(out / "b.mkv", reference)


def test_resume_after_a_scene_cut_finds_the_same_cuts_and_the_same_output(cli, tmp_path):
    """A clip with a hard cut at frame 14, interrupted after frame 24 (inside the second shot) and resumed: the
    cut is found again (the resumed run re-reads the stream from frame 0) and the output is exact."""
    first = gradient_images(14, 64, 48)
    second = [np.ascontiguousarray(255 - image[::-1, :, ::-1]) for image in gradient_images(22, 64, 48)]
    source = write_clip(tmp_path / "in.mkv", first + second, codec="libx264")
    reference = tmp_path / "ref.mkv"
    plain = cli("restore", source, reference, *PGDE[:-1], "--json")
    assert plain.code == 0, plain.stderr
    assert json.loads(plain.stdout)["cuts"] == [14]
    output = tmp_path / "out.mkv"
    with _interrupt_after(24):
        assert cli("restore", source, output, *PGDE, "--resume").code == 130
    assert json.loads(_kept(output)[1].read_text())["frames_done"] == 24
    resumed = cli("restore", source, output, *PGDE[:-1], "--resume", "--json")
    assert resumed.code == 0, resumed.stderr
    assert json.loads(resumed.stdout)["cuts"] == [14]
    a, b = _video(output), _video(reference)
    assert len(a) == len(b) == 36
    assert all(np.array_equal(x, y) for (_, x), (_, y) in zip(a, b, strict=True))
