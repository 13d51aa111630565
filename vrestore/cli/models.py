"""``vrestore models list|inspect|download|verify|path``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from vrestore.cli import _console
from vrestore.cli._app import models_app
from vrestore.cli._options import CacheDirOpt, JsonOpt, QuietOpt

if TYPE_CHECKING:
    from vrestore.weights.download import DownloadProgress
    from vrestore.weights.manifest import Entry
    from vrestore.weights.store import Store


@contextmanager
def download_bar(enabled: bool) -> Iterator[Callable[[DownloadProgress], None]]:
    """A rich download bar (bytes, speed, ETA) on a terminal; else a no-op progress callback."""
    if not enabled or not _console.stderr.is_terminal:
        yield lambda report: None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=_console.stderr, transient=True) as bar:
        tasks: dict[str, int] = {}

        def update(report: DownloadProgress) -> None:
            if report.key not in tasks:
                tasks[report.key] = bar.add_task(f"downloading {report.key}", total=report.total)
            bar.update(tasks[report.key], completed=report.done, total=report.total)

        yield update


def resolve_checkpoint(name: str) -> tuple[str | None, str]:
    """(manifest key, label) for a model id or a manifest key; key None when the model needs no file."""
    from vrestore.errors import UsageError
    from vrestore.models.registry import get_spec, is_registered, suggest
    from vrestore.weights.manifest import load_manifest

    if is_registered(name):
        spec = get_spec(name)
        return spec.weights, spec.id
    if name in load_manifest():
        return name, name
    close = suggest(name)
    hint = f"did you mean {' or '.join(close)}?" if close else "run 'vrestore models list' to see them"
    raise UsageError(f"unknown model or checkpoint '{name}'; {hint}")


def _size(num: int | None) -> str:
    if num is None:
        return "?"
    for unit in ("B", "KB", "MB", "GB"):
        if num < 1000 or unit == "GB":
            return f"{num:.0f} {unit}" if unit == "B" else f"{num:.1f} {unit}"
        num /= 1000
    return "?"  # pragma: no cover


@models_app.command("list", epilog="Example: vrestore models list 'rvrt.*' --json")
def list_cmd(
    pattern: Annotated[str, typer.Argument(metavar="PATTERN", help="Glob over model ids, e.g. 'rvrt.*'.")] = "*",
    cache_dir: CacheDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List the registered models: task, scale, checkpoint size and licence, and whether it is cached.

    Ids are never shortened: a terminal gets one block per model (the description wrapped under its id),
    a pipe gets plain aligned columns, one model per line.
    """
    from vrestore.models import DEFAULT_MODEL, list_models, resolve_id
    from vrestore.models.registry import default_tag
    from vrestore.weights.store import Store

    store = Store(cache_dir)
    restore_default = resolve_id(DEFAULT_MODEL)
    rows = []
    for s in list_models(pattern):
        entry = store.entry(s.weights) if s.weights else None
        is_default = default_tag(s.arch) == s.tag
        rows.append({
            "id": s.id,
            "default": is_default,
            "alias": s.arch if is_default else None,
            "restore_default": s.id == restore_default,
            "task": s.task,
            "temporal": s.temporal.value,
            "scale": s.scale,
            "weights": s.weights or ("needs --weights" if s.requires_weights else "built-in"),
            "size": _total_size(store, entry) if entry else None,
            "license": entry.license if entry else None,
            "cached": True if entry is None else store.all_cached(entry.key),
            "description": s.description,
        })
    if json_out:
        print(json.dumps(rows))
        return
    if not rows:
        print(f"no registered model matches '{pattern}'; run 'vrestore models list' to see all", flush=True)
        return
    footer = f"restore uses {restore_default} when --model is not given; an alias is a bare name --model accepts"
    if _console.stdout.is_terminal:
        from rich.text import Text

        _print_model_blocks(rows)
        _console.stdout.print(Text(footer), highlight=False, soft_wrap=False)
    else:
        _print_model_columns(rows)
        print(footer, flush=True)


def _total_size(store: Store, entry: Entry) -> int | None:
    """Bytes of a checkpoint and its parts (None when one of them has no recorded size)."""
    sizes = [store.entry(key).size for key in entry.keys]
    return None if None in sizes else sum(sizes)


def _cells(row: dict) -> dict[str, str]:
    builtin = row["weights"] in ("built-in", "needs --weights")
    return {
        "id": row["id"],
        "alias": row["alias"] or "-",
        "task": row["task"],
        "scale": f"x{row['scale']}",
        "size": "-" if builtin else _size(row["size"]),
        "licence": row["license"] or "-",
        "cached": row["weights"] if builtin else ("yes" if row["cached"] else "no"),
        "description": row["description"],
    }


def _print_model_columns(rows: list[dict]) -> None:
    """Plain aligned columns for pipes and files: nothing is shortened or wrapped, the description comes last."""
    table = [_cells(row) for row in rows]
    names = list(_cells(rows[0])) if rows else ["id"]
    widths = {name: max([len(name)] + [len(cells[name]) for cells in table]) for name in names}
    for cells in [dict(zip(names, names, strict=True)), *table]:
        print("  ".join(cells[name].ljust(widths[name]) for name in names).rstrip(), flush=True)


def _print_model_blocks(rows: list[dict]) -> None:
    """One block per model for a terminal: the id line (at most ~80 characters), then the rest wrapped."""
    from rich.padding import Padding
    from rich.text import Text

    id_width = max(len(row["id"]) for row in rows)
    for row in rows:
        cells = _cells(row)
        if row["weights"] in ("built-in", "needs --weights"):
            weights = row["weights"]
        elif row["cached"]:
            weights = f"{cells['size']} cached"
        else:
            weights = "not downloaded" if row["size"] is None else f"{cells['size']} to download"
        head = Text(cells["id"].ljust(id_width), style="bold")
        head.append(f"  {cells['scale']}  {weights.ljust(15)}")
        if row["alias"]:
            head.append(f"  alias {row['alias']}")
        _console.stdout.print(head, highlight=False, soft_wrap=False)
        about = Text()
        if row["restore_default"]:
            about.append("restore uses this model when --model is not given. ", style="bold")
        about.append(f"{cells['description']}\n")
        about.append(f"task: {cells['task']}; licence: {cells['licence']}", style="dim")
        _console.stdout.print(Padding(about, (0, 0, 0, 4)), highlight=False, soft_wrap=False)


@models_app.command("download", epilog="Example: vrestore models download rvrt.denoise-davis   (or --all)")
def download_cmd(
    ids: Annotated[Optional[list[str]], typer.Argument(metavar="ID", help="Model ids or checkpoint keys.",
                                                       show_default=False)] = None,
    all_: Annotated[bool, typer.Option("--all", help="Download every checkpoint in the manifest.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Fetch again even when cached.")] = False,
    cache_dir: CacheDirOpt = None,
    quiet: QuietOpt = False,
) -> None:
    """Download checkpoints into the cache and verify them (cached ones are only verified)."""
    from vrestore.errors import UsageError
    from vrestore.weights.store import Store

    store = Store(cache_dir)
    if all_ == bool(ids):
        raise UsageError("give model ids or --all (not both); see 'vrestore models list'")
    names = list(store.manifest) if all_ else list(ids or [])
    if not names and not quiet:
        print("weights.toml lists no checkpoints in this version", flush=True)
    _console.show_warnings(not quiet)
    for name in names:
        key, label = resolve_checkpoint(name)
        if key is None:
            if not quiet:
                print(f"{label}: built-in weights, nothing to download", flush=True)
            continue
        for part in store.entry(key).keys:
            name = label if part == key else part
            with download_bar(not quiet) as update:
                path = store.download(part, progress=update, label=name, force=force)
            if not quiet:
                print(f"{name}: {path}", flush=True)


@models_app.command("verify", epilog="Example: vrestore models verify   (exit code 5 when a file is corrupt)")
def verify_cmd(
    ids: Annotated[Optional[list[str]], typer.Argument(metavar="ID", help="Model ids or checkpoint keys "
                                                       "(default: every checkpoint).", show_default=False)] = None,
    cache_dir: CacheDirOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Hash the cached checkpoints against weights.toml (or their pins); never downloads."""
    from vrestore.errors import WeightsError
    from vrestore.weights.store import Store

    store = Store(cache_dir)
    keys = [resolve_checkpoint(name) for name in ids] if ids else [(key, key) for key in store.manifest]
    if ids:  # a model's checkpoint and its parts, each part under its own key
        keys = [(part, label if part == key else part) for key, label in keys if key is not None
                for part in store.entry(key).keys]
    results = [(label, store.verify(key)) for key, label in keys if key is not None]
    if json_out:
        print(json.dumps([{"id": label, "checkpoint": r.key, "status": r.status,
                           "path": str(r.path) if r.path else None, "detail": r.detail} for label, r in results]))
    else:
        for label, r in results:
            where = f"  {r.path}" if r.path and r.status != "missing" else ""
            detail = f" ({r.detail})" if r.detail else ""
            print(f"{label}: {r.status}{detail}{where}", flush=True)
    bad = [label for label, r in results if r.status == "corrupt"]
    if bad:
        raise WeightsError(
            f"{len(bad)} cached checkpoint(s) fail verification: {', '.join(bad)}; "
            f"run 'vrestore models download --force {' '.join(bad)}'"
        )


@models_app.command("path", epilog="Example: vrestore models path rvrt.denoise-davis")
def path_cmd(
    model_id: Annotated[str, typer.Argument(metavar="ID", help="Model id or checkpoint key.")],
    cache_dir: CacheDirOpt = None,
) -> None:
    """Print the path of a cached checkpoint (exit code 5 when it is not cached)."""
    from vrestore.errors import WeightsError
    from vrestore.weights.store import Store

    key, label = resolve_checkpoint(model_id)
    if key is None:
        raise WeightsError(f"model {label} has built-in weights and no checkpoint file")
    store = Store(cache_dir)
    path = store.cached(key)
    if path is None:
        raise WeightsError(f"the checkpoint of {label} is not cached; run 'vrestore models download {label}'")
    print(path)


@models_app.command("inspect", epilog="Example: vrestore models inspect tiny.test --json")
def inspect_cmd(
    model_id: Annotated[str, typer.Argument(metavar="ID", help="Model id (ignored with --weights).")] = "",
    weights: Annotated[
        Optional[Path], typer.Option("--weights", metavar="FILE",
                                     help="Inspect this checkpoint file instead of the model.")
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
