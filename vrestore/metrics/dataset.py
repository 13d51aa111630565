"""Which restored file goes with which reference: single pairs, folders of videos, pair lists."""

from __future__ import annotations

import csv
from pathlib import Path

from vrestore.errors import InputError, UsageError
from vrestore.io.frames import IMAGE_SUFFIXES


def _holds_images(folder: Path) -> bool:
    return any(p.suffix.lower() in IMAGE_SUFFIXES for p in folder.iterdir() if p.is_file())


def _entries(folder: Path) -> dict[str, Path]:
    """Videos by stem and sub-folders by name, skipping hidden files and sidecars."""
    found: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() in (".json", ".csv", ".txt", ".md"):
            continue
        found[path.stem if path.is_file() else path.name] = path
    return found


def collect_pairs(restored: Path, reference: Path) -> list[tuple[Path, Path]]:
    """(restored, reference) pairs: one pair, or a dataset when both are folders of videos/sequences.

    A folder that directly holds images is one frame sequence; otherwise its videos (matched by file
    stem) and sub-folders (matched by name) are paired with the reference folder's.
    """
    if not (restored.is_dir() and reference.is_dir()) or _holds_images(restored) or _holds_images(reference):
        return [(restored, reference)]
    ours, theirs = _entries(restored), _entries(reference)
    missing = sorted(set(theirs) - set(ours))
    extra = sorted(set(ours) - set(theirs))
    if missing or extra:
        names = ", ".join((missing or extra)[:5])
        detail = f"missing restored: {names}" if missing else f"no reference for: {names}"
        raise InputError(f"folders {restored} and {reference} do not hold the same names ({detail}); "
                         "use --pairs list.csv to pair them explicitly")
    if not ours:
        raise InputError(f"folder {restored} holds no videos or frame folders; pass folders of videos, or two videos")
    return [(ours[name], theirs[name]) for name in sorted(ours)]


def read_pairs_csv(path: Path) -> list[tuple[Path, Path]]:
    """Pairs from a CSV file with two columns, restored and reference (a header row is allowed)."""
    if not path.is_file():
        raise UsageError(f"--pairs {path} does not exist; give a CSV file of 'restored,reference' rows")
    base = path.parent
    pairs = []
    with path.open(newline="") as handle:
        for number, row in enumerate(csv.reader(handle), start=1):
            cells = [c.strip() for c in row if c.strip()]
            if not cells or cells[0].startswith("#"):
                continue
            if len(cells) != 2:
                raise UsageError(f"--pairs {path}: line {number} has {len(cells)} columns; expected restored,reference")
            if number == 1 and cells[0].lower() == "restored":
                continue
            pairs.append(tuple(p if Path(p).is_absolute() else base / p for p in map(Path, cells)))
    if not pairs:
        raise UsageError(f"--pairs {path} lists no pairs; add 'restored,reference' rows")
    return pairs  # type: ignore[return-value]
