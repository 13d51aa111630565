"""Restore a batch of (input, output) pairs with one model: what ``vrestore restore`` runs, usable from Python.

    from pathlib import Path
    from vrestore.batch import output_pairs
    from vrestore.batch_restore import restore_many
    from vrestore.options import RestoreOptions

    pairs = output_pairs([Path("clips")], Path("restored"), recursive=True)
    outcomes = restore_many(pairs, RestoreOptions(model="tiny.test"), skip_existing=True, continue_on_error=True)
    failed = [o.input for o in outcomes if o.status == "failed"]

The model is loaded once, by the first input that passes its checks; a checkpoint not yet cached is
downloaded before the first input. Nothing is printed: :class:`BatchEvents` lets a caller follow the batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vrestore.batch import make_parent
from vrestore.errors import VrestoreError

if TYPE_CHECKING:
    from vrestore.api import Progress, Restorer, RestoreResult
    from vrestore.compare.run import CompareResult
    from vrestore.models import LoadedModel
    from vrestore.options import RestoreOptions
    from vrestore.weights.download import DownloadProgress


@dataclass(frozen=True)
class Outcome:
    """What became of one input: ``ok``, ``skipped`` (its output exists), ``failed`` or ``preview`` (preview only)."""

    status: str
    input: str
    output: str | None
    frames: int = 0
    seconds: float = 0.0
    error: str | None = None
    result: RestoreResult | None = None  # the restore's record (status ok)
    exception: VrestoreError | None = None  # what failed (status failed)
    stops_batch: bool = False  # a failure that ends the batch: restore_many raises ``exception`` next

    def to_dict(self, code: int = 0) -> dict:
        """The ``vrestore restore --json`` line: the result's own fields, then the common ones.

        ``code`` is the exit code the CLI maps this failure to (``vrestore.cli._errors``; 0 when none).
        """
        return {
            **(self.result.to_dict() if self.result is not None else {}),
            "status": self.status,
            "input": self.input,
            "output": self.output,
            "frames": self.frames,
            "seconds": round(self.seconds, 3),
            "code": code,
            "error": self.error,
        }


@dataclass(frozen=True)
class BatchEvents:
    """Optional callbacks through which a caller follows a batch (progress bars, one line per input)."""

    on_start: Callable[[LoadedModel], None] | None = None  # once, when the first restore starts decoding
    download: Callable[[DownloadProgress], None] | None = None  # the checkpoint's download, before the first input
    progress: Callable[[int, Progress], None] | None = None  # (number of the input from 1, its progress)
    preview: Callable[[Path, CompareResult], None] | None = None  # (input, the --preview comparison written)
    outcome: Callable[[Outcome], None] | None = None  # each input's outcome, a failure before it is raised


def restore_many(
    pairs: Sequence[tuple[Path, Path | None]],
    options: RestoreOptions | None = None,
    *,
    skip_existing: bool = False,
    continue_on_error: bool = False,
    make_folders: bool = False,
    preview: int = 0,
    preview_only: bool = False,
    events: BatchEvents | None = None,
) -> list[Outcome]:
    """Restore each (input, output) pair with one model; one :class:`Outcome` per pair, in order.

    An output of None is ``<stem>_restored.<ext>`` beside the input. ``skip_existing`` leaves pairs whose
    output exists. Without ``continue_on_error`` the first failure is raised (a ``VrestoreError``); with it,
    a failure becomes a ``failed`` outcome and the batch goes on, except in a batch of one and for errors of
    loading the model, which would repeat for every input. ``make_folders`` creates each output's folder.
    ``preview`` > 0 first writes ``<output>.preview.mp4`` (the first ``preview`` frames, input beside
    restored); ``preview_only`` stops there. An interrupt (``KeyboardInterrupt``) stops the batch at once.
    """
    from vrestore.api import Restorer

    events = events or BatchEvents()
    restorer = Restorer(options, on_start=events.on_start, download_progress=events.download)
    restorer.fetch_weights()
    outcomes: list[Outcome] = []
    for number, (source, destination) in enumerate(pairs, 1):
        if skip_existing and destination is not None and destination.exists():
            outcome = Outcome("skipped", str(source), str(destination))
        else:
            try:
                outcome = _restore_one(restorer, number, source, destination, events, make_folder=make_folders,
                                       preview=preview, preview_only=preview_only)
            except VrestoreError as exc:
                stops = not continue_on_error or restorer.load_failed or len(pairs) == 1
                outcome = Outcome("failed", str(source), None if destination is None else str(destination),
                                  error=str(exc), exception=exc, stops_batch=stops)
                if events.outcome is not None:
                    events.outcome(outcome)
                if stops:
                    raise
                outcomes.append(outcome)
                continue
        outcomes.append(outcome)
        if events.outcome is not None:
            events.outcome(outcome)
    return outcomes


def _restore_one(
    restorer: Restorer,
    number: int,
    source: Path,
    destination: Path | None,
    events: BatchEvents,
    *,
    make_folder: bool,
    preview: int,
    preview_only: bool,
) -> Outcome:
    if make_folder and destination is not None:
        make_parent(destination)
    if preview:
        shown = _write_preview(restorer, source, destination, preview)
        if events.preview is not None:
            events.preview(source, shown)
        if preview_only:
            return Outcome("preview", str(source), shown.output, shown.frames, shown.seconds)
    progress = events.progress
    result = restorer.restore(source, destination,
                              progress=None if progress is None else lambda p: progress(number, p))
    return Outcome("ok", result.input, result.output, result.frames, result.seconds, result=result)


def _write_preview(restorer: Restorer, source: Path, destination: Path | None, frames: int) -> CompareResult:
    """The side-by-side preview of ``source``'s first ``frames`` frames, beside the output."""
    from vrestore.api import default_output_path
    from vrestore.compare.preview import preview_path, write_preview
    from vrestore.io.probe import probe

    info = probe(source)  # names the default output, and the preview's reader needs no probe of its own
    target = preview_path(destination if destination is not None else default_output_path(source, info))
    return write_preview(source, target, restorer.model, restorer.options, frames, info=info)
