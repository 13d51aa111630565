"""``vrestore restore`` with RVRT end to end on CPU: random checkpoints served by the local test server.

The packaged manifest stays as it is; VRESTORE_WEIGHTS_MIRROR points the download at the server, which
serves the file under the official asset's name (sha256 "unverified": pinned at this first download).
"""

from __future__ import annotations

import io
import json

import av
import pytest
import torch

from tests.helpers import run_subprocess
from tests.weights.fileserver import FileServer
from vrestore.models.rvrt.net import DENOISE, RVRT, SR, RVRTConfig
from vrestore.models.seeded import default_init

pytestmark = pytest.mark.slow  # two real RVRT forwards on CPU (tens of seconds on a busy machine)


def _checkpoint(config: RVRTConfig) -> bytes:
    """A random RVRT in the official container ({"params": state}) whose output stays near its input."""
    model = default_init(lambda: RVRT(config), 0)
    with torch.no_grad():
        model.conv_last.weight.mul_(0.01)
        model.conv_last.bias.zero_()
    buffer = io.BytesIO()
    torch.save({"params": model.state_dict()}, buffer)
    return buffer.getvalue()


def _facts(path) -> dict:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        times = sorted(round(float(f.pts * f.time_base), 4) for f in container.decode(stream))
        audio = [s.codec_context.name for s in container.streams.audio]
        return {"times": times, "size": (stream.codec_context.width, stream.codec_context.height), "audio": audio}


@pytest.fixture(autouse=True)
def _served_weights(monkeypatch, file_server: FileServer, tmp_path):
    """The CLI subprocess downloads from the test server into a fresh cache."""
    monkeypatch.setenv("VRESTORE_WEIGHTS_MIRROR", file_server.url(""))
    monkeypatch.setenv("VRESTORE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("VRESTORE_OFFLINE", raising=False)


def _restore(source, output, model: str, *extra: str) -> dict:
    proc = run_subprocess("restore", source, output, "--model", model, "--device", "cpu", "--json", *extra,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_denoise_with_sigma(file_server: FileServer, make_clip, tmp_path):
    file_server.files["/006_RVRT_videodenoising_DAVIS_16frames.pth"] = _checkpoint(DENOISE)
    source = make_clip("noisy.mkv", count=4, size=(144, 136))
    output = tmp_path / "clean.mkv"
    report = _restore(source, output, "rvrt.denoise-davis", "--sigma", "20")
    assert report["model"] == "rvrt.denoise-davis" and report["frames"] == 4
    assert report["sigma"] == {"auto": False, "value": 20.0}
    before, after = _facts(source), _facts(output)
    assert after["times"] == before["times"] and after["size"] == (144, 136)
    assert any(p.startswith("/006_") for p, _ in file_server.requests)


def test_denoise_estimates_sigma_by_default(file_server: FileServer, make_clip, tmp_path):
    file_server.files["/006_RVRT_videodenoising_DAVIS_16frames.pth"] = _checkpoint(DENOISE)
    source = make_clip("noisy.mkv", count=4, size=(144, 136))
    report = _restore(source, tmp_path / "clean.mkv", "rvrt.denoise-davis")
    windows = report["sigma"]["per_window"]
    assert report["sigma"]["auto"] is True and [w["frames"] for w in windows] == [[0, 4]]
    assert 0 <= windows[0]["sigma"] < 5  # the test pattern is smooth and nearly noiseless


def test_sr_x4_keeps_timing_and_audio(file_server: FileServer, make_clip, tmp_path):
    file_server.files["/001_RVRT_videosr_bi_REDS_30frames.pth"] = _checkpoint(SR)
    source = make_clip("small.mkv", count=5, size=(48, 40), audio=True)
    output = tmp_path / "big.mkv"
    report = _restore(source, output, "rvrt.sr-reds-x4")
    assert report["frames"] == 5
    before, after = _facts(source), _facts(output)
    assert after["times"] == before["times"]
    assert after["size"] == (192, 160)
    assert after["audio"] == before["audio"] == ["aac"]
