"""Read and validate weights.toml, the manifest of every checkpoint vrestore knows about.

Stdlib only (no torch, no requests), so that reading the manifest is cheap and works anywhere.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import PurePosixPath
from urllib.parse import urlsplit

from vrestore.errors import WeightsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

UNVERIFIED = "unverified"
MANIFEST_NAME = "weights.toml"

_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = frozenset(
    {"url", "file", "mirrors", "sha256", "size", "license", "source", "paper", "state_key", "component_of", "parts"}
)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Entry:
    """One checkpoint: where it comes from, how to check it, and under which terms it is published."""

    key: str
    sha256: str | None  # None: "unverified" in the manifest (pinned at first download)
    license: str
    source: str
    url: str | None = None
    file: str | None = None  # bundled inside the package, relative to vrestore/
    mirrors: tuple[str, ...] = ()
    size: int | None = None
    paper: str = ""
    state_key: str | None = None
    component_of: tuple[str, ...] = ()  # model ids that use this file without naming it as their weights
    parts: tuple[str, ...] = ()  # further entries whose tensors complete this file's state dict

    @property
    def keys(self) -> tuple[str, ...]:
        """This entry's key followed by its parts: every file a model that names this entry needs."""
        return (self.key, *self.parts)

    @property
    def verified(self) -> bool:
        """True when the manifest carries the file's hash (and size)."""
        return self.sha256 is not None

    @property
    def bundled(self) -> bool:
        """True when the file ships inside the package instead of being downloaded."""
        return self.file is not None

    @property
    def filename(self) -> str:
        """The file's own name (last segment of its url or bundled path)."""
        where = self.file if self.file is not None else urlsplit(self.url or "").path
        return PurePosixPath(where).name or f"{self.key}.pth"

    @property
    def suffix(self) -> str:
        """File extension used in the cache (the source's, e.g. .pth or .ckpt)."""
        suffix = PurePosixPath(self.filename).suffix.lower()
        return suffix if suffix in (".pth", ".pt", ".ckpt", ".bin", ".safetensors") else ".pth"

    @property
    def urls(self) -> tuple[str, ...]:
        """Download locations in the order they are tried."""
        return ((self.url,) if self.url else ()) + self.mirrors


class Manifest(Mapping[str, Entry]):
    """The parsed manifest: a read-only ``key -> Entry`` mapping."""

    def __init__(self, entries: Iterable[Entry], source: str = MANIFEST_NAME) -> None:
        self._entries = {e.key: e for e in entries}
        self.source = source

    def __getitem__(self, key: str) -> Entry:
        return self._entries[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, key: str) -> Entry:
        """The entry ``key``; WeightsError when the manifest has none (a packaging bug)."""
        if key not in self._entries:
            raise WeightsError(
                f"checkpoint '{key}' is not in {self.source}; reinstall vrestore or report this as a bug"
            )
        return self._entries[key]


def parse_manifest(text: str, source: str = MANIFEST_NAME) -> Manifest:
    """Parse and validate manifest ``text``; every problem is a WeightsError naming the entry and field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise WeightsError(f"{source} is not valid TOML ({exc}); fix the file or reinstall vrestore") from exc
    return Manifest((_entry(key, table, source) for key, table in data.items()), source)


@lru_cache(maxsize=1)
def load_manifest() -> Manifest:
    """The manifest shipped inside the package (found with importlib.resources, also in a wheel)."""
    return parse_manifest(manifest_text(), MANIFEST_NAME)


def manifest_text() -> str:
    """Raw text of the packaged weights.toml."""
    return resources.files("vrestore").joinpath(MANIFEST_NAME).read_text(encoding="utf-8")


def check_consistency(
    weights_of: Mapping[str, str | None], manifest: Mapping[str, Entry]
) -> list[str]:
    """Problems between model specs and the manifest, both directions (empty list = consistent).

    ``weights_of`` maps every registered model id to its spec's ``weights`` key (or None). Every key
    must name an entry; every entry must be some spec's weights, a part of one, or list registered ids in
    ``component_of``. Parts must name entries that have no parts of their own.
    """
    problems = []
    used = set()
    for model_id, key in sorted(weights_of.items()):
        if key is None:
            continue
        used.add(key)
        if key not in manifest:
            problems.append(f"model {model_id} names checkpoint '{key}', which weights.toml lacks")
    for key, entry in manifest.items():
        for part in entry.parts:
            if part not in manifest:
                problems.append(f"checkpoint '{key}' has part '{part}', which weights.toml lacks")
            elif manifest[part].parts:
                problems.append(f"checkpoint '{key}' has part '{part}', which has parts of its own")
            if key in used:
                used.add(part)
    for key, entry in manifest.items():
        unknown = [m for m in entry.component_of if m not in weights_of]
        if unknown:
            problems.append(f"checkpoint '{key}' is a component of unregistered model(s) {', '.join(unknown)}")
        if key not in used and not entry.component_of:
            problems.append(f"checkpoint '{key}' is used by no registered model")
    return problems


def _entry(key: str, table: object, source: str) -> Entry:
    where = f"{source} [{key}]"
    if not isinstance(table, dict):
        raise WeightsError(f"{where} must be a table; write it as [{key}] with fields below it")
    if not _KEY.match(key):
        raise WeightsError(f"{where}: keys use lower-case letters, digits, '.', '_' and '-'; rename the entry")
    unknown = sorted(set(table) - _FIELDS)
    if unknown:
        raise WeightsError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed: {', '.join(sorted(_FIELDS))}")
    url, file = table.get("url"), table.get("file")
    if (url is None) == (file is None):
        raise WeightsError(f"{where}: give exactly one of 'url' (download) or 'file' (bundled)")
    for name in ("license", "source"):
        if not isinstance(table.get(name), str) or not table[name].strip():
            raise WeightsError(f"{where}: '{name}' is required (a non-empty string)")
    mirrors = table.get("mirrors", [])
    if not isinstance(mirrors, list) or file is not None and mirrors:
        raise WeightsError(f"{where}: 'mirrors' is a list of urls, and only for downloaded entries")
    for candidate in ([url] if url is not None else []) + mirrors:
        _check_url(candidate, where)
    if file is not None and (not isinstance(file, str) or file.startswith("/") or ".." in PurePosixPath(file).parts):
        raise WeightsError(f"{where}: 'file' must be a path inside the package, relative to vrestore/")
    sha256, size = table.get("sha256"), table.get("size")
    if sha256 == UNVERIFIED:
        if size is not None or file is not None:
            raise WeightsError(f"{where}: an 'unverified' entry is downloaded and has no 'size'; remove it")
        sha256 = None
    elif not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise WeightsError(f"{where}: 'sha256' must be 64 lower-case hex digits or \"{UNVERIFIED}\"")
    elif not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise WeightsError(f"{where}: 'size' (bytes, a positive integer) is required with a sha256")
    component_of = table.get("component_of", [])
    if not isinstance(component_of, list) or not all(isinstance(m, str) for m in component_of):
        raise WeightsError(f"{where}: 'component_of' is a list of model ids")
    parts = table.get("parts", [])
    if not isinstance(parts, list) or not all(isinstance(k, str) and _KEY.match(k) and k != key for k in parts):
        raise WeightsError(f"{where}: 'parts' is a list of the keys of other entries")
    state_key = table.get("state_key")
    if state_key is not None and not isinstance(state_key, str):
        raise WeightsError(f"{where}: 'state_key' is a string")
    return Entry(
        key=key,
        sha256=sha256,
        license=table["license"].strip(),
        source=table["source"].strip(),
        url=url,
        file=file,
        mirrors=tuple(mirrors),
        size=size,
        paper=str(table.get("paper", "")),
        state_key=state_key,
        component_of=tuple(component_of),
        parts=tuple(parts),
    )


def _check_url(url: object, where: str) -> None:
    parts = urlsplit(url) if isinstance(url, str) else None
    ok = parts is not None and parts.hostname and (
        parts.scheme == "https" or parts.scheme == "http" and parts.hostname in _LOOPBACK
    )
    if not ok:
        raise WeightsError(f"{where}: '{url}' is not an https url (plain http only for 127.0.0.1); fix the url")
