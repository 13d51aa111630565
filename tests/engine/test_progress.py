"""Progress of a restore: the total from the probe at once, reports from inside a long window, the bar's total."""

from __future__ import annotations

import io

import pytest
import torch
from rich.console import Console
from torch import nn

from tests.helpers import make_video
from vrestore.api import Progress, restore_video
from vrestore.cli import _console
from vrestore.engine.runner import restore_frames
from vrestore.models import build, get_spec
from vrestore.models.loaded import LoadedModel
from vrestore.models.pgdenet import network
from vrestore.models.progress import listen, report
from vrestore.models.spec import Temporal
from vrestore.options import ClipOptions, RestoreOptions, TileOptions

from .toy_models import make_frames, make_model


class SlowRecurrent(nn.Module):
    """A CLIP model that reports its progress frame by frame and records how many reports it saw arrive."""

    def __init__(self, received: list[float]) -> None:
        super().__init__()
        self.received = received
        self.seen_at_return: list[int] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.shape[1]
        for i in range(t):
            report((i + 1) / t)
        self.seen_at_return.append(len(self.received))
        return x


def test_reports_from_inside_a_window_arrive_before_it_completes():
    received: list[float] = []
    module = SlowRecurrent(received)
    model = make_model(module, temporal=Temporal.CLIP, clip_length=20)
    outputs = list(restore_frames(make_frames(30, 16, 16), model, clip=ClipOptions(20, 4), stage_ahead=0,
                                  on_progress=received.append))
    assert len(outputs) == 30
    # Window 1 feeds frames 0-19 and keeps 0-14 (the last window is shifted back to 10-29, sharing 10 frames):
    # its 20 reports cover 0.75, 1.5, ..., 15 frames before it returns.
    first = received[: module.seen_at_return[0]]
    assert len(first) == 20 and first[0] == pytest.approx(15 / 20) and first[-1] == pytest.approx(15)
    assert all(b > a for a, b in zip(received, received[1:], strict=False))  # never backwards
    assert received[-1] == 30


def test_each_tile_reports_its_share_of_the_window():
    received: list[float] = []
    model = make_model(SlowRecurrent(received), temporal=Temporal.CLIP, clip_length=8)
    list(restore_frames(make_frames(8, 32, 64), model, TileOptions(size=32, overlap=8), stage_ahead=0,
                        on_progress=received.append))
    # Two tiles of one 8-frame window: the first tile's last report is half the window.
    assert received[7] == pytest.approx(4) and received[-1] == pytest.approx(8)
    assert len(received) == 16


def test_a_model_that_does_not_report_moves_the_count_once_per_window():
    received: list[float] = []
    model = make_model(nn.Identity(), temporal=Temporal.CLIP, clip_length=10)
    list(restore_frames(make_frames(25, 8, 8), model, clip=ClipOptions(10, 0), stage_ahead=0,
                        on_progress=received.append))
    # Windows 0-9, 10-19 and (shifted back to full length) 15-24 keep frames up to 10, 17 and 25.
    assert received == [10, 17, 25]


def test_pgdenet_reports_steadily_through_its_forward_pass():
    spec = get_spec("pgdenet.test")
    model = LoadedModel(spec, build(spec))
    fractions: list[float] = []
    clip = torch.rand(1, 7, 3, 132, 132, generator=torch.Generator().manual_seed(0))
    with listen(fractions.append):
        model.run(clip)
    # Features and flows in chunks, 4 propagation branches and the reconstruction, frame by frame.
    assert len(fractions) >= 5 * 7
    assert all(b > a for a, b in zip(fractions, fractions[1:], strict=False))
    assert fractions[0] < 0.1 and fractions[-1] == pytest.approx(1.0)


def test_pgdenet_chunks_give_the_output_of_one_batch(monkeypatch):
    spec = get_spec("pgdenet.test")
    model = LoadedModel(spec, build(spec))
    clip = torch.rand(1, 9, 3, 132, 132, generator=torch.Generator().manual_seed(1))
    chunked, _ = model.run(clip)
    monkeypatch.setattr(network, "CHUNK", 1000)
    whole, _ = model.run(clip)
    assert torch.equal(chunked, whole)


def test_restore_reports_the_probed_total_before_any_frame(tmp_path):
    source = make_video(tmp_path / "in.mp4", frames=10)
    reports: list[Progress] = []
    restore_video(source, tmp_path / "out.mkv", RestoreOptions(model="tiny.test", device="cpu"),
                  progress=reports.append)
    assert (reports[0].frames_done, reports[0].frames_total) == (0, 10)
    assert all(p.frames_total == 10 and p.frames_computed >= p.frames_done for p in reports)
    assert reports[-1].frames_done == 10 and reports[-1].frames_computed == 10


def test_the_bar_shows_the_total_and_moves_with_the_computed_frames(monkeypatch):
    screen = io.StringIO()
    monkeypatch.setattr(_console, "stderr", Console(file=screen, force_terminal=True, width=100))
    with _console.frame_progress("restoring x.mp4", None, enabled=True) as update:
        update(0, 30, 0.5)
        update(0, 30, 5.0, 7.6)
    text = screen.getvalue()
    assert "7/30" in text and "0/?" not in text


def test_the_bar_says_when_the_model_waits_for_the_motion_average(monkeypatch):
    def shown(*updates: tuple) -> str:
        screen = io.StringIO()
        monkeypatch.setattr(_console, "stderr", Console(file=screen, force_terminal=True, width=120))
        with _console.frame_progress("restoring x.mp4", None, enabled=True) as update:
            for args in updates:
                update(*args)
        return screen.getvalue()  # the bar as last drawn, when it closes

    waiting = shown((0, 30, 0.5, 0.0, (12, 40)))
    assert "averaging frames 12/40" in waiting and "restoring" not in waiting
    after = shown((0, 30, 0.5, 0.0, (12, 40)), (0, 30, 5.0, 7.6))
    assert "7/30" in after and "averaging" not in after.split("restoring x.mp4")[-1]


def test_follow_passes_every_field_of_a_report_to_the_bar():
    calls = []
    _console.follow(lambda *args: calls.append(args))(Progress(3, 10, 1.5, 4.5, (2, 7)))
    assert calls == [(3, 10, 1.5, 4.5, (2, 7))]
