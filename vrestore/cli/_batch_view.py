"""How ``vrestore restore`` shows a batch: progress bars on a terminal, then one line or JSON object per input."""

from __future__ import annotations

import json
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from vrestore.batch_restore import BatchEvents, Outcome
from vrestore.cli import _console
from vrestore.cli._console import error_line
from vrestore.cli._errors import exit_code_for
from vrestore.io.stdio import is_stdio

if TYPE_CHECKING:
    from vrestore.api import Progress
    from vrestore.compare.run import CompareResult
    from vrestore.models import LoadedModel
    from vrestore.weights.download import DownloadProgress


class BatchView:
    """The callbacks of a batch (``events()``); a context manager that closes any bar still shown."""

    def __init__(self, sources: list[Path], *, quiet: bool, json_out: bool, report_to_stderr: bool = False) -> None:
        self._sources = sources
        self._quiet = quiet
        self._json = json_out
        self._file: TextIO | None = sys.stderr if report_to_stderr else None
        self._bar = ExitStack()
        self._shown: Any = None  # what the open bar shows: "download", or the number of the input restoring
        self._update: Any = None

    def __enter__(self) -> BatchView:
        return self

    def __exit__(self, *exc: object) -> None:
        self._close_bar()

    def events(self) -> BatchEvents:
        """The callbacks to pass to ``restore_many``."""
        # On a terminal the model and weights are named before a possibly long run; elsewhere stderr stays for
        # warnings and the one error line, and the result line (or --json) names them.
        announce = not self._quiet and not self._json and _console.stderr.is_terminal
        return BatchEvents(on_start=say_model if announce else None, download=self._download,
                           progress=self._progress, preview=self._preview, outcome=self._outcome)

    def summary(self, outcomes: list[Outcome]) -> None:
        """The closing count line of a batch of several inputs."""
        if len(self._sources) > 1 and not self._quiet and not self._json:
            counts = {status: sum(o.status == status for o in outcomes) for status in ("ok", "skipped", "failed")}
            print(f"{counts['ok']} restored, {counts['skipped']} skipped, {counts['failed']} failed", flush=True)

    def _download(self, report: DownloadProgress) -> None:
        if self._shown != "download":
            from vrestore.cli.models import download_bar

            self._open_bar("download", download_bar(not self._quiet and not self._json))
        self._update(report)

    def _progress(self, number: int, progress: Progress) -> None:
        if self._shown != number:
            total = len(self._sources)
            label = f"restoring {self._sources[number - 1].name}" + (f" ({number}/{total})" if total > 1 else "")
            self._open_bar(number, _console.frame_progress(label, None, enabled=not self._quiet and not self._json))
        _console.follow(self._update)(progress)

    def _preview(self, source: Path, result: CompareResult) -> None:
        self._close_bar()
        if not self._quiet and not self._json:
            print(f"preview of {source.name}: {result.output} ({result.frames} frames, input | restored)", flush=True)

    def _outcome(self, outcome: Outcome) -> None:
        self._close_bar()
        if outcome.status == "failed":
            if self._json:
                print(json.dumps(outcome.to_dict(exit_code_for(outcome.exception))), flush=True)
            if not outcome.stops_batch:  # a failure that stops the batch is main's one error line
                error_line(f"{outcome.input}: {outcome.error}")
        elif self._json:
            print(json.dumps(outcome.to_dict()), flush=True)
        elif self._quiet or outcome.status == "preview":  # _preview said where it wrote
            return
        elif outcome.result is not None:
            self._result_lines(outcome.result)
        else:
            print(f"skipped {outcome.input}: {outcome.output} exists", flush=True)

    def _result_lines(self, result: Any) -> None:
        print(
            f"restored {_shown(result.input, 'stdin')} -> {_shown(result.output, 'stdout')}: "
            f"{result.frames} frames in {result.seconds:.1f} s "
            f"({result.fps:.1f} fps, model {result.model} on {result.device}{_weights_note(result.weights)})",
            file=self._file, flush=True,
        )
        if result.profile is not None:
            print(_console.profile_line(result.profile), file=self._file, flush=True)

    def _open_bar(self, shown: Any, bar: Any) -> None:
        self._close_bar()
        self._update = self._bar.enter_context(bar)
        self._shown = shown

    def _close_bar(self) -> None:
        self._bar.close()
        self._shown = self._update = None


def first_failure_code(outcomes: list[Outcome]) -> int:
    """The exit code of the first failed input (0 when none failed)."""
    return next((exit_code_for(o.exception) for o in outcomes if o.status == "failed"), 0)


def say_model(loaded: LoadedModel) -> None:
    """One stderr line naming the model and the weights file a run uses (the default model is not obvious)."""
    from vrestore.models.registry import DEFAULT_MODEL, resolve_id  # torch is loaded by now anyway

    default = " (the default model; --model picks another)" if loaded.spec.id == resolve_id(DEFAULT_MODEL) else ""
    weights = loaded.weights.describe() if loaded.weights is not None else "weights not recorded"
    _console.stderr.print(f"using {loaded.spec.id}{default} with {weights}", markup=False, highlight=False)


def _weights_note(weights: dict | None) -> str:
    if not weights or weights.get("file") is None:
        return ""
    return f", weights {Path(weights['file']).name} sha256 {weights['sha256']}"


def _shown(path: str, stdio: str) -> str:
    return stdio if is_stdio(path) else path
