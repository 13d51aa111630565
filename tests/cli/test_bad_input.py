"""Bad input: one stderr line, the documented exit code, nothing left behind, the input untouched."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from tests.helpers import assert_one_line_error, leftovers, make_video, sha256


def test_missing_file(run_cli, tmp_path):
    result = run_cli("restore", tmp_path / "nope.mp4", "--model", "tiny.test")
    assert_one_line_error(result, 3, "nope.mp4")
    assert leftovers(tmp_path, set()) == []


@pytest.mark.parametrize("content", [b"", b"this is not a video\n" * 50], ids=["empty", "text"])
def test_not_a_video(run_cli, tmp_path, content):
    source = tmp_path / "bad.mp4"
    source.write_bytes(content)
    result = run_cli("restore", source, "--model", "tiny.test")
    assert_one_line_error(result, 3, "bad.mp4")
    assert leftovers(tmp_path, {"bad.mp4"}) == []
    assert source.read_bytes() == content


def test_output_equal_to_input(run_cli, small_video):
    digest = sha256(small_video)
    for args in ([small_video], [small_video, "--overwrite"]):
        result = run_cli("restore", small_video, *args, "--model", "tiny.test")
        assert_one_line_error(result, 4)
    assert sha256(small_video) == digest


def test_output_equal_to_input_by_another_path(run_cli, small_video, monkeypatch):
    monkeypatch.chdir(small_video.parent)
    result = run_cli("restore", small_video, f"./{small_video.name}", "--model", "tiny.test", "--overwrite")
    assert_one_line_error(result, 4)


def test_existing_output_needs_overwrite(run_cli, small_video, tmp_path):
    existing = tmp_path / "out.mp4"
    existing.write_bytes(b"keep me")
    result = run_cli("restore", small_video, existing, "--model", "tiny.test")
    assert_one_line_error(result, 4, "--overwrite")
    assert existing.read_bytes() == b"keep me"
    result = run_cli("restore", small_video, existing, "--model", "tiny.test", "--overwrite", "--quiet")
    assert result.code == 0, result.stderr
    assert existing.stat().st_size > 100 and leftovers(tmp_path, {"small.mp4", "out.mp4"}) == []


def test_unwritable_output_folder(run_cli, small_video, tmp_path):
    not_a_dir = tmp_path / "file.txt"
    not_a_dir.write_text("x")
    result = run_cli("restore", small_video, not_a_dir / "out.mp4", "--model", "tiny.test")
    assert_one_line_error(result, 4)
    result = run_cli("restore", small_video, tmp_path / "missing" / "out.mp4", "--model", "tiny.test")
    assert_one_line_error(result, 4)


def test_read_only_output_folder(run_cli, small_video, read_only_folder):
    result = run_cli("restore", small_video, read_only_folder / "out.mp4", "--model", "tiny.test")
    assert_one_line_error(result, 4)
    assert list(read_only_folder.iterdir()) == []


def test_unknown_model(run_cli, small_video, tmp_path):
    result = run_cli("restore", small_video, tmp_path / "o.mp4", "--model", "tiny.tset")
    assert_one_line_error(result, 2, "tiny.test")
    assert not (tmp_path / "o.mp4").exists()


@pytest.mark.parametrize(("typed", "meant"), [
    ("pgdenet.td", "pgdenet.tud"), ("pgdenet.tux", "pgdenet.tud"), ("pgdnet", "pgdenet.mc"),
    ("tiny.tst", "tiny.test"), ("rvrt.denoise-davs", "rvrt.denoise-davis"), ("PGDENET.TUD", "pgdenet.tud"),
])
def test_model_typos_are_usage_errors_with_the_closest_id(run_cli, tmp_path, typed, meant):
    """Checked before the input: the input here does not even exist."""
    result = run_cli("restore", tmp_path / "x.mp4", "--model", typed)
    assert_one_line_error(result, 2, f"unknown model '{typed}'; did you mean {meant}?")


def test_unknown_tag_of_a_known_architecture_lists_its_models(run_cli, tmp_path):
    result = run_cli("restore", tmp_path / "x.mp4", "--model", "rvrt.nosuch")
    assert_one_line_error(result, 2, "unknown model 'rvrt.nosuch'", "rvrt.denoise-davis", "rvrt.sr-reds-x4")


def test_unknown_architecture_guesses_nothing(run_cli, tmp_path):
    result = run_cli("restore", tmp_path / "x.mp4", "--model", "doesnotexist")
    assert_one_line_error(result, 2, "unknown model 'doesnotexist'", "vrestore models list")
    assert "did you mean" not in result.stderr


def test_official_pgdenet_without_weights_names_the_command_that_works(run_cli, small_video, tmp_path):
    result = run_cli("restore", small_video, tmp_path / "o.mp4", "--model", "pgdenet.official")
    assert_one_line_error(result, 5, "--model pgdenet.official --weights FILE", "pgdenet.mc")
    assert leftovers(tmp_path, {"small.mp4"}) == []


@pytest.mark.parametrize("kind", ["video", "random-bytes", "custom-class"])
def test_weights_that_are_no_plain_checkpoint(run_cli, small_video, tmp_path, kind):
    """``--weights`` given a video, random bytes, or a checkpoint that pickles a class of its own: exit 5."""
    path = tmp_path / "weights.pth"
    if kind == "video":
        path = small_video
    elif kind == "random-bytes":
        path.write_bytes(torch.randint(0, 256, (4096,), generator=torch.Generator().manual_seed(1),
                                       dtype=torch.uint8).numpy().tobytes())
    else:
        torch.save({"params": {"w": torch.zeros(1)}, "config": _TrainingConfig()}, path)
    result = run_cli("restore", small_video, tmp_path / "o.mp4", "--model", "tiny.test", "--weights", path)
    what = "holds Python objects besides tensors" if kind == "custom-class" else "is not a PyTorch checkpoint"
    assert_one_line_error(result, 5, what, "--weights")
    assert not (tmp_path / "o.mp4").exists()


class _TrainingConfig:
    """Pickled beside the tensors, as some training scripts do."""


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_requested_without_cuda(run_cli, small_video, tmp_path):
    result = run_cli("restore", small_video, tmp_path / "o.mp4", "--model", "tiny.test", "--device", "cuda")
    assert_one_line_error(result, 6, "CUDA")
    assert leftovers(tmp_path, {"small.mp4"}) == []


def test_truncated_streamable_video_restores_what_decodes(run_cli, tmp_path):
    full = make_video(tmp_path / "full.mkv", frames=60)
    cut = tmp_path / "cut.mkv"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) * 6 // 10])
    result = run_cli("restore", cut, tmp_path / "out.mkv", "--model", "tiny.test", "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert 0 < report["frames"] < 60
    assert "truncated" in result.stderr and "Traceback" not in result.stderr
    assert any("truncated" in w for w in report["warnings"])


def test_truncated_mp4_without_index_is_an_input_error(run_cli, tmp_path):
    full = make_video(tmp_path / "full.mp4", frames=30)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(full.read_bytes()[:2000])
    result = run_cli("restore", cut, tmp_path / "out.mp4", "--model", "tiny.test")
    assert_one_line_error(result, 3, "cut.mp4")
    assert not (tmp_path / "out.mp4").exists()


@pytest.mark.parametrize("command", [
    ("restore", "{src}", "{out}.mkv", "--model", "tiny.test"),
    ("restore", "{src}", "{out}.mkv", "--model", "tiny.test", "--preview-only"),
    ("synth", "{src}", "{out}.mkv"),
    ("analyze", "{src}"),
    ("compare", "{src}", "{src}", "-o", "{out}.mkv"),
    ("eval", "{src}", "{src}"),
], ids=["restore", "preview", "synth", "analyze", "compare", "eval"])
def test_no_decodable_frame_is_one_message_for_every_command(run_cli, tmp_path, command):
    source = tmp_path / "empty.y4m"
    source.write_bytes(b"YUV4MPEG2 W64 H48 F25:1 Ip A1:1 C420jpeg\n")  # a header, no frame
    args = [arg.format(src=source, out=tmp_path / "out") for arg in command]
    result = run_cli(*args)
    assert_one_line_error(result, 3, f"input '{source}' contains no decodable video frames; the file is corrupt or "
                                     "truncated")
    assert leftovers(tmp_path, {"empty.y4m"}) == []


def _interrupt_mid_run(tmp_path: Path, sig: int) -> tuple[subprocess.CompletedProcess, list[str]]:
    source = make_video(tmp_path / "long.mkv", frames=1500, size=(320, 240))
    output = tmp_path / "out.mkv"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vrestore", "restore", source, output, "--model", "tiny.test", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # A shell running the tests in the background makes children ignore SIGINT; Ctrl-C at a terminal
        # reaches a foreground process whose SIGINT is at its default, which is what we simulate.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any("part" in p.name for p in tmp_path.iterdir()):
        time.sleep(0.05)
    time.sleep(0.5)
    assert proc.poll() is None, "the restore finished before it could be interrupted"
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), leftovers(tmp_path, {"long.mkv"})


@pytest.mark.parametrize(
    ("sig", "code", "word"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
    ids=["ctrl-c", "sigterm"],
)
def test_interrupt_removes_partial_output(tmp_path, sig, code, word):
    proc, left = _interrupt_mid_run(tmp_path, sig)
    assert proc.returncode == code, proc.stderr
    assert word in proc.stderr and "Traceback" not in proc.stderr
    assert left == []


def test_bad_tile_options_fail_before_writing(run_cli, small_video, tmp_path):
    result = run_cli("restore", small_video, tmp_path / "o.mp4", "--model", "tiny.test", "--tile", "16",
                     "--tile-overlap", "40")
    assert_one_line_error(result, 2)
    assert leftovers(tmp_path, {"small.mp4"}) == []


@pytest.mark.parametrize(("model", "sigma", "fragment"), [("tiny.test", "20", "takes no input 'sigma'"),
                                                          ("rvrt.denoise-davis", "300", "--sigma")])
def test_bad_sigma_fails_before_writing(run_cli, small_video, tmp_path, model, sigma, fragment):
    result = run_cli("restore", small_video, tmp_path / "o.mp4", "--model", model, "--sigma", sigma)
    assert_one_line_error(result, 2, fragment)
    assert leftovers(tmp_path, {"small.mp4"}) == []
