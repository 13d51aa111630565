"""``vrestore train RECIPE.yml`` and ``vrestore train export CKPT -o weights.pth``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from vrestore.cli import _console
from vrestore.cli._app import app
from vrestore.cli._errors import note_partial_kept
from vrestore.cli._help import HelpGroup, Typer
from vrestore.cli._options import JsonOpt, QuietOpt, TrainDeviceOpt

if TYPE_CHECKING:
    from vrestore.train.loop import StepReport


class _RecipeFirst(HelpGroup):
    """``vrestore train RECIPE ...`` means ``vrestore train run RECIPE ...``; ``export`` stays a subcommand."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args.insert(0, "run")
        return super().resolve_command(ctx, args)


train_app = Typer(
    cls=_RecipeFirst,
    help="Train a model on clean clips degraded on the fly (TUD protocol), and export its weights. "
         "Usage: vrestore train RECIPE.yml [--resume]; vrestore train export CKPT -o weights.pth. "
         "Recipes: see configs/.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(train_app, name="train")

EXAMPLE = ("Example: vrestore train configs/pgdenet-tud.yml --time-limit 50 (later: the same command with "
           "--resume continues from <output>/last.pth). Multi-GPU: torchrun --nproc_per_node 4 -m vrestore "
           "train configs/pgdenet-tud.yml")


@train_app.command("run", epilog=EXAMPLE)
def run(
    recipe: Annotated[Path, typer.Argument(metavar="RECIPE", help="Training recipe (YAML).", show_default=False)],
    resume: Annotated[bool, typer.Option("--resume", help="Continue the run from <output>/last.pth.")] = False,
    output: Annotated[Optional[str], typer.Option("--output", "-o", metavar="FOLDER",
                                                  help="Run folder (overrides the recipe).")] = None,
    stop_at: Annotated[Optional[int], typer.Option("--stop-at", metavar="STEP", min=1,
                                                   help="Stop (with a checkpoint) after this "
                                                        "step; --resume continues later.")] = None,
    time_limit: Annotated[Optional[float], typer.Option(
        "--time-limit", metavar="MINUTES", min=0.0, help="Stop (with a checkpoint) after this many minutes.")] = None,
    device: TrainDeviceOpt = None,
    steps: Annotated[Optional[int], typer.Option("--steps", metavar="N", min=1, help="Total steps of the schedule "
                                                                        "(overrides the recipe).")] = None,
    init: Annotated[Optional[Path], typer.Option("--init", metavar="FILE|MODEL",
                                                 help="Start from these weights: a file (e.g. an export of an "
                                                      "earlier run) or a model id with registered weights "
                                                      "(e.g. pgdenet.wide); overrides the recipe.")] = None,
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train the model of RECIPE; checkpoints go to <output>/last.pth, the log to <output>/log.jsonl."""
    from vrestore.train.config import load_config
    from vrestore.train.loop import train

    overrides: dict[str, Any] = {}
    if output is not None:
        overrides["output"] = str(Path(output).resolve())
    if device is not None:
        overrides["device"] = device
    if steps is not None:
        overrides["steps"] = steps
    if init is not None:  # an existing file is made absolute (a recipe's paths are relative to the recipe);
        overrides["init"] = str(init.resolve()) if init.exists() else str(init)  # else build_model decides
    config = load_config(recipe, overrides)
    _console.show_warnings(not (quiet or json_out))
    show = not (quiet or json_out)
    with _step_bar(show, config.steps) as on_step, _checkpoint_kept_on_interrupt(config.resolve(config.output)):
        summary = train(config, resume=resume, stop_at=stop_at,
                        time_limit_s=None if time_limit is None else time_limit * 60.0, on_step=on_step,
                        on_validation=(lambda step, scores: _console.stderr.print(
                            f"step {step}: validation PSNR {scores['psnr']:.2f} dB (input {scores['input_psnr']:.2f}"
                            + (f", frames alone {scores['single_psnr']:.2f}" if "single_psnr" in scores else "")
                            + f"), SSIM {scores['ssim']:.4f}"))
                        if show else None)
    if summary.rank > 0:
        return  # under torchrun only rank 0 reports
    if json_out:
        print(json.dumps(summary.__dict__))
    elif not quiet:
        state = ("finished" if summary.finished
                 else f"stopped at step {summary.step} of {summary.total} (--resume continues)")
        loss = f", last loss {summary.last_loss:.5f}" if summary.last_loss is not None else ""
        _console.stdout.print(f"training {state}{loss}; checkpoint {summary.output}/last.pth")


@contextmanager
def _checkpoint_kept_on_interrupt(output: Path) -> Iterator[None]:
    """On Ctrl-C/SIGTERM the loop saves a checkpoint; make the exit message say so (not "output removed")."""
    try:
        yield
    except KeyboardInterrupt:
        last = output / "last.pth"
        if last.exists():
            note_partial_kept(f"kept the checkpoint {last}")
        raise


@train_app.command("export")
def export(
    checkpoint: Annotated[Path, typer.Argument(metavar="CHECKPOINT", help="Training checkpoint (e.g. runs/x/last.pth).",
                                               show_default=False)],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="FILE",
                                         help="Weights file to write.", show_default=False)],
    dtype: Annotated[str, typer.Option("--dtype", metavar="fp16|fp32", help="fp16 (half the size) or fp32.")] = "fp16",
    part: Annotated[Optional[list[str]], typer.Option(
        "--part", metavar="PREFIX=FILE", show_default=False,
        help="Write the tensors whose names start with PREFIX to FILE instead (e.g. spynet.=spynet.pth): "
             "the parts of a weights.toml entry. Repeatable.")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the EMA weights of CHECKPOINT as a plain weights file, and print its sha256 and size."""
    from vrestore.errors import UsageError
    from vrestore.train.checkpoint import export_weights

    parts: dict[str, Path] = {}
    for item in part or []:
        prefix, sep, name = item.partition("=")
        if not sep or not prefix or not name:
            raise UsageError(f"--part '{item}' is not PREFIX=FILE; e.g. --part spynet.=spynet.pth")
        parts[prefix] = Path(name)
    files = export_weights(checkpoint, output, dtype, parts)
    if json_out:
        first, rest = files[0], files[1:]
        print(json.dumps({"output": str(first.path), "sha256": first.sha256, "size": first.size, "dtype": dtype,
                          "parts": [{"prefix": f.prefix, "output": str(f.path), "sha256": f.sha256, "size": f.size}
                                    for f in rest]}))
    else:
        for f in files:
            _console.stdout.print(f"{f.path}\nsha256 = \"{f.sha256}\"\nsize = {f.size}", highlight=False)


@contextmanager
def _step_bar(enabled: bool, total: int) -> Iterator[Callable[[StepReport], None] | None]:
    """A rich bar (step, loss, it/s, ETA) on a terminal; plain log lines otherwise; None when quiet."""
    if not enabled:
        yield None
        return
    if not _console.stderr.is_terminal:
        yield lambda r: print(f"step {r.step}/{r.total} loss {r.loss:.5f} lr {r.lr:.2e} {r.steps_per_s:.2f} it/s",
                              file=sys.stderr, flush=True)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("[bold]training"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
               TextColumn("{task.fields[rate]} it/s"), TimeRemainingColumn())
    with Progress(*columns, console=_console.stderr, transient=True) as bar:
        task = bar.add_task("training", total=total, loss="-", rate="-")

        def update(report: StepReport) -> None:
            bar.update(task, completed=report.step, loss=f"{report.loss:.5f}", rate=f"{report.steps_per_s:.2f}")

        yield update
