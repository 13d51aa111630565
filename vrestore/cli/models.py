"""``vrestore models list|inspect``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from vrestore.cli import _console
from vrestore.cli._app import models_app
from vrestore.cli._options import JsonOpt


@models_app.command("list", epilog="Example: vrestore models list 'rvrt.*' --json")
def list_cmd(
    pattern: Annotated[str, typer.Argument(help="Glob over model ids.")] = "*",
    json_out: JsonOpt = False,
) -> None:
    """List the registered models."""
    from rich.table import Table

    from vrestore.models import list_models
    from vrestore.models.registry import default_tag

    specs = list_models(pattern)
    rows = [
        {
            "id": s.id,
            "default": default_tag(s.arch) == s.tag,
            "task": s.task,
            "temporal": s.temporal.value,
            "scale": s.scale,
            "weights": s.weights or "built-in",
            "description": s.description,
        }
        for s in specs
    ]
    if json_out:
        print(json.dumps(rows))
        return
    table = Table("id", "task", "temporal", "scale", "weights", "description", box=None)
    for row in rows:
        mark = " (default)" if row["default"] else ""
        table.add_row(row["id"] + mark, row["task"], row["temporal"], f"x{row['scale']}", row["weights"],
                      row["description"])
    _console.stdout.print(table)


@models_app.command("inspect", epilog="Example: vrestore models inspect tiny.test --json")
def inspect_cmd(
    model_id: Annotated[str, typer.Argument(metavar="ID", help="Model id (ignored with --weights).")] = "",
    weights: Annotated[
        Optional[Path], typer.Option("--weights", help="Inspect this checkpoint file instead of the model.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Parameter names and shapes of a model as registered (no weights loaded), or of a checkpoint file."""
    from vrestore.errors import UsageError

    if weights is not None:
        from vrestore.weights.load import read_state_dict

        state = read_state_dict(weights)
        ident = str(weights)
        # A file cannot tell parameters from buffers: count every floating-point tensor.
        count = sum(t.numel() for t in state.values() if t.is_floating_point())
    else:
        if not model_id:
            raise UsageError("give a model ID or --weights FILE; see 'vrestore models list'")
        from vrestore.models import build, get_spec

        spec = get_spec(model_id)
        module = build(spec)
        state = module.state_dict()
        ident = spec.id
        count = sum(p.numel() for p in module.parameters())
    shapes = {name: list(t.shape) for name, t in state.items()}
    report = {
        "id": ident,
        "parameters": int(count),
        "state_dict": shapes,
    }
    if json_out:
        print(json.dumps(report))
        return
    _console.stdout.print(f"{ident}: {report['parameters']:,} parameters, {len(shapes)} tensors")
    for name, shape in shapes.items():
        _console.stdout.print(f"  {name}  {shape}", highlight=False)
