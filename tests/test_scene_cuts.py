"""Scene cuts on real footage (issue 22): no false cuts on the shared clips; pgdenet.tud restarts at a cut."""

from __future__ import annotations

from itertools import islice
from pathlib import Path

import cv2
import numpy as np

from vrestore.api import load_model
from vrestore.engine.cuts import detect_cuts, mark_cuts
from vrestore.engine.runner import restore_frames
from vrestore.frame import Frame
from vrestore.io.reader import open_reader
from vrestore.options import ClipOptions

# The clips' real cuts in their first 120 frames (checked by eye); every other clip has none.
REAL_CUTS = {"bikes-640x272.mp4": [30, 76]}
FIRST = 120


def test_no_false_cut_on_the_real_clips(shared_data: Path) -> None:
    clips = sorted((shared_data / "clips").iterdir())
    assert any("vfr" in c.name for c in clips) and any("pts" in c.name for c in clips)
    assert any("rotation" in c.name for c in clips)
    for clip in clips:
        with open_reader(clip) as reader:
            images = [frame.image for frame in islice(reader, FIRST)]
        assert detect_cuts(images) == REAL_CUTS.get(clip.name, []), clip.name


def davis(shared_data: Path, name: str, count: int, size: int = 128) -> list[np.ndarray]:
    files = sorted((shared_data / "test" / "davis" / name).glob("*.jpg"))[:count]
    images = [cv2.cvtColor(cv2.imread(str(f)), cv2.COLOR_BGR2RGB) for f in files]
    return [np.ascontiguousarray(image[:size, :size]) for image in images]


def frames_of(images: list[np.ndarray]) -> list[Frame]:
    return [Frame(image, i, None, i) for i, image in enumerate(images)]


def test_pgdenet_restarts_at_a_hard_cut(shared_data: Path) -> None:
    """The 5 frames after the cut equal the second shot restored alone; without cut detection they do not."""
    first, second = davis(shared_data, "blackswan", 7), davis(shared_data, "breakdance", 7)
    joined = first + second
    assert detect_cuts(joined) == [len(first)]
    model = load_model("pgdenet.tud", device="cpu", dtype="fp32")
    clip = ClipOptions(length=12, overlap=6)  # without cuts, window [6, 12) spans the cut at frame 7

    def run(images: list[np.ndarray], *, detect: bool) -> list[np.ndarray]:
        frames = mark_cuts(frames_of(images), detect=detect)
        return [f.image.astype(np.float64) for f in restore_frames(frames, model, clip=clip, stage_ahead=0)]

    alone = run(second, detect=True)[:5]
    with_cuts = run(joined, detect=True)[len(first) : len(first) + 5]
    without = run(joined, detect=False)[len(first) : len(first) + 5]
    # Output is uint8: equal to 1e-5 of the 0..1 range means bit-identical.
    exact = max(float(np.abs(a - b).max()) for a, b in zip(with_cuts, alone, strict=True))
    assert exact <= 1e-5 * 255
    spread = [float(np.abs(a - b).max()) for a, b in zip(without, alone, strict=True)]
    mean = [float(np.abs(a - b).mean()) for a, b in zip(without, alone, strict=True)]
    print(f"without cut detection, the 5 frames after the cut differ by max {spread} / mean "
          f"{[round(m, 3) for m in mean]} levels")
    assert max(spread) >= 1, "the previous shot leaks into the first frames of the next"
