"""End to end through the real CLI on real clips: frames, timestamps, size and audio survive."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest

from tests.helpers import run_subprocess


def clip(name: str, output_name: str, *marks: pytest.MarkDecorator) -> object:
    return pytest.param(name, output_name, id=name, marks=marks)


CLIPS = [
    # The plainest 720p clip (mp4 with AAC) takes ~45 s and checks nothing the VFR 720p and 1080p clips do not.
    clip("cockatoo-720p-audio.mp4", "out.mp4", pytest.mark.slow),
    clip("fire-720p-vfr-audio.mp4", "out.mp4"),
    clip("plaza-720p-audio-irregular-pts.avi", "out.mkv"),
    clip("pancake-426x240-vfr-opus.mkv", "out.mkv"),
    clip("armwrestling-340x256.mp4", "out.mp4"),
    clip("office-1080p-pts-gap.mp4", "out.mp4"),
]


def video_facts(path: Path) -> dict:
    """Frame times (s), size and the audio codecs of a file, read with PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        # Sorted: B-frame AVIs report raw pts out of presentation order (ffprobe shows them sorted).
        times = sorted(float(f.pts * f.time_base) for f in container.decode(stream))
        audio = [s.codec_context.name for s in container.streams.audio]
        return {"times": times, "size": (stream.codec_context.width, stream.codec_context.height), "audio": audio}


@pytest.mark.parametrize(("name", "output_name"), CLIPS)
def test_restore_real_clip(shared_data, tmp_path, name, output_name):
    source = shared_data / "clips" / name
    output = tmp_path / output_name
    # ultrafast: the encoder preset does not touch what is checked here (frames, timing, size, audio).
    proc = run_subprocess("restore", source, output, "--model", "tiny.test", "--preset", "ultrafast", "--json",
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["output"] == str(output) and report["model"] == "tiny.test"

    before, after = video_facts(source), video_facts(output)
    assert report["frames"] == len(before["times"]) == len(after["times"])
    deltas = [abs(a - b) for a, b in zip(after["times"], before["times"], strict=True)]
    assert max(deltas) <= 0.001, f"timestamps moved by up to {max(deltas):.4f} s"
    assert after["size"] == before["size"]
    assert len(after["audio"]) == len(before["audio"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [output_name]
