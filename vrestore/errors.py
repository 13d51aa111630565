"""The error family of vrestore.

The library raises these and never prints or exits; the CLI (``vrestore.cli._errors``) is the single
place that maps each class to a process exit code:

======================  ====  ==========================================================================
class                   code  raised by / when
======================  ====  ==========================================================================
VrestoreError (base)    1     an unexpected internal failure that still has a useful message
UsageError              2     cli/api: bad option value, unknown model id, incompatible options
InputError              3     io: input missing, empty, unreadable, corrupt or unsupported
OutputError             4     io/api: output exists without --overwrite, unwritable, output equals input
PipeClosed              141   io: the reader of stdout closed it early (``| head``); 128 + SIGPIPE, as a
                              program killed by SIGPIPE would exit, so ``set -o pipefail`` sees it
WeightsError            5     weights/api: checkpoint missing, download failed, checksum mismatch, offline
DeviceError             6     models/engine: CUDA requested but absent; out of memory at the smallest tile
(KeyboardInterrupt)     130   Ctrl-C; the partial output is removed (kept for ``--resume`` when resuming is on)
(SIGTERM)               143   terminated by a scheduler or ``kill``/``timeout``; as Ctrl-C
PartialKept             130   a KeyboardInterrupt raised by api when the run was started with ``resume``:
                              the partial output and its state file were kept (143 after SIGTERM)
======================  ====  ==========================================================================

Every message names the bad value and says what to do about it, in one line.
"""

from __future__ import annotations

from pathlib import Path


class VrestoreError(Exception):
    """Base class: something went wrong that the user should read about."""


class UsageError(VrestoreError):
    """A command-line option or API argument is invalid (also: unknown model id)."""


class InputError(VrestoreError):
    """The input cannot be read: missing, empty, corrupt, not a video, unsupported."""


class OutputError(VrestoreError):
    """The output cannot be written: exists, unwritable, or the same file as the input."""


class PipeClosed(OutputError):
    """The program reading the video from stdout closed the pipe before the end (e.g. ``| head -c 1000``)."""

    def __init__(self, frames: int) -> None:
        super().__init__(f"the program reading stdout closed the pipe; stopped after restoring {frames} frame(s)")
        self.frames = frames


class WeightsError(VrestoreError):
    """A checkpoint is missing, unverifiable, corrupt, or cannot be downloaded."""


class DeviceError(VrestoreError):
    """The requested device is unavailable, or memory ran out even at the smallest tile."""


class PartialKept(KeyboardInterrupt):
    """An interrupted restore whose partial output was kept for ``--resume`` (raised from the interrupt)."""

    def __init__(self, source: str, part: Path, frames: int) -> None:
        super().__init__(f"kept the partial output of {source} ({frames} frames) for --resume")
        self.source = source
        self.part = part
        self.frames = frames
