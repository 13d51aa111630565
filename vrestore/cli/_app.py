"""The Typer application object shared by the command modules."""

from __future__ import annotations

import typer

from vrestore.cli._help import HelpGroup, Typer

app = Typer(
    cls=HelpGroup,
    name="vrestore",
    help="Restore videos (denoise, deblur, all-in-one, weather) with research-grade models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
models_app = Typer(
    cls=HelpGroup,
    help="List, download, verify and inspect models and their checkpoints.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(models_app, name="models")


def _print_version(value: bool) -> None:
    if value:
        from vrestore import __version__

        print(f"vrestore {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(
        False, "--version", help="Print the version and exit.", callback=_print_version, is_eager=True
    ),
) -> None:
    """Restore videos with research-grade models. Exit codes: 0 ok, 1 internal, 2 usage, 3 input,
    4 output, 5 weights, 6 device, 130 interrupted (Ctrl-C), 141 stdout closed by its reader, 143 terminated
    (SIGTERM)."""
