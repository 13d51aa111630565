"""``restore``'s rules for ``-`` (stdin as the input, stdout as the output): what a pipe cannot do."""

from __future__ import annotations

from pathlib import Path

from vrestore.errors import UsageError
from vrestore.io.stdio import is_stdio


def check_pipe_options(
    inputs: list[Path],
    *,
    output_dir: Path | None,
    batch_options: dict[str, bool],
    json_out: bool,
) -> bool:
    """UsageError for options that make no sense with ``-``; returns True when the video goes to stdout.

    ``batch_options`` maps option names (``--resume``...) to whether they were given; none of them fits a
    pipe, which is read or written once and has no file to skip, continue or mirror.
    """
    if not any(is_stdio(path) for path in inputs):
        return False
    if output_dir is not None:
        raise UsageError("'-' (stdin/stdout) cannot be part of a batch with -o FOLDER; restore a pipe on its own: "
                         "vrestore restore - OUT")
    if len(inputs) < 2 and is_stdio(inputs[0]):
        raise UsageError("input '-' reads stdin and needs an output: a file, or '-' for stdout "
                         "(vrestore restore - out.mkv)")
    given = [name for name, on in batch_options.items() if on]
    if given:
        raise UsageError(f"{given[0]} cannot be used with '-' (stdin/stdout): a pipe is read or written once; "
                         f"drop {given[0]} or use files")
    to_stdout = len(inputs) == 2 and is_stdio(inputs[1])
    if to_stdout and json_out:
        raise UsageError("--json prints on stdout, which carries the video with output '-'; drop --json or "
                         "write a file")
    return to_stdout
