"""The checkpoint cache: find, download, verify and pin the files named in weights.toml.

Layout: ``<cache>/<key>/<sha256[:12]><ext>`` (content-addressed), ``<cache>/<key>/<name>.part`` while
downloading, ``<cache>/<key>/.lock`` while one process fills the folder, and ``<cache>/<key>/pin.json``
for entries whose manifest hash is "unverified" (the hash seen at first download, enforced afterwards).

Environment: ``VRESTORE_CACHE_DIR`` (cache root), ``VRESTORE_OFFLINE=1`` (never touch the network),
``VRESTORE_WEIGHTS_MIRROR`` (a base url or a local folder that replaces the download hosts).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import requests

from vrestore.errors import WeightsError
from vrestore.weights.download import (
    ProgressFn,
    SourceUnavailable,
    TooLarge,
    TransferSettings,
    hash_file,
    is_remote,
    receive,
)
from vrestore.weights.lock import file_lock
from vrestore.weights.manifest import Entry, Manifest, load_manifest

ENV_CACHE_DIR = "VRESTORE_CACHE_DIR"
ENV_OFFLINE = "VRESTORE_OFFLINE"
ENV_MIRROR = "VRESTORE_WEIGHTS_MIRROR"
PIN_NAME = "pin.json"
LOCK_NAME = ".lock"

log = logging.getLogger("vrestore")


@dataclass(frozen=True)
class Expected:
    """The hash and size a good copy must have, and where they come from (manifest or pin)."""

    sha256: str
    size: int | None
    pinned: bool = False


@dataclass(frozen=True)
class VerifyResult:
    """Outcome of ``Store.verify``: status is ok, missing or corrupt."""

    key: str
    status: str
    path: Path | None
    detail: str = ""


def default_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$VRESTORE_CACHE_DIR``, else the platform's user cache folder for vrestore."""
    environ = os.environ if environ is None else environ
    if environ.get(ENV_CACHE_DIR):
        return Path(environ[ENV_CACHE_DIR]).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("vrestore"))


def offline_requested(environ: Mapping[str, str] | None = None) -> bool:
    """True when ``VRESTORE_OFFLINE`` is set to anything but '', 0, false, no or off."""
    environ = os.environ if environ is None else environ
    return environ.get(ENV_OFFLINE, "").strip().lower() not in ("", "0", "false", "no", "off")


class Store:
    """Checkpoints on disk. Every path it returns holds a file whose sha256 was just checked.

    Arguments left as None come from the environment (see the module doc). ``transfer`` sets timeouts,
    retries and backoff; ``lock_timeout`` is how long to wait for another process's download.
    """

    def __init__(
        self,
        cache_dir: Path | str | None = None,
        *,
        manifest: Manifest | None = None,
        offline: bool | None = None,
        mirror: str | None = None,
        transfer: TransferSettings | None = None,
        session: requests.Session | None = None,
        lock_timeout: float = 3600.0,
    ) -> None:
        self.root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        self.manifest = manifest if manifest is not None else load_manifest()
        self.offline = offline_requested() if offline is None else offline
        self.mirror = mirror if mirror is not None else (os.environ.get(ENV_MIRROR) or None)
        self.transfer = transfer or TransferSettings()
        self.session = session
        self.lock_timeout = lock_timeout

    # ----------------------------------------------------------------------------------- queries

    def entry(self, key: str) -> Entry:
        """The manifest entry ``key``."""
        return self.manifest.entry(key)

    def folder(self, key: str) -> Path:
        """The cache folder of checkpoint ``key``."""
        return self.root / key

    def expected(self, key: str) -> Expected | None:
        """Hash and size a good copy must have; None for an unverified entry not pinned yet."""
        entry = self.entry(key)
        if entry.sha256 is not None:
            return Expected(entry.sha256, entry.size)
        pin = self._read_pin(key)
        return Expected(pin["sha256"], pin.get("size"), pinned=True) if pin else None

    def target(self, key: str) -> Path | None:
        """Where the good copy of ``key`` lives (or would); None when unverified and not pinned yet."""
        entry = self.entry(key)
        if entry.bundled:
            return self._bundled_path(entry)
        expected = self.expected(key)
        return self.folder(key) / f"{expected.sha256[:12]}{entry.suffix}" if expected else None

    def cached(self, key: str) -> Path | None:
        """The cached (or bundled) file of ``key`` if present; its hash is not checked here."""
        path = self.target(key)
        return path if path is not None and path.is_file() else None

    def all_cached(self, key: str) -> bool:
        """True when ``key`` and each of its parts are cached (or bundled); hashes are not checked here."""
        return all(self.cached(k) is not None for k in self.entry(key).keys)

    # ----------------------------------------------------------------------------------- actions

    def fetch_all(
        self, key: str, *, progress: ProgressFn | None = None, label: str | None = None
    ) -> list[tuple[Path, Entry]]:
        """:meth:`fetch` of ``key`` and then of each of its parts: every verified file a model needs."""
        return [(self.fetch(k, progress=progress, label=label), self.entry(k)) for k in self.entry(key).keys]

    def fetch(self, key: str, *, progress: ProgressFn | None = None, label: str | None = None) -> Path:
        """A verified local file for ``key``: the cache if good, else downloaded (once more if corrupt).

        ``label`` names the checkpoint in messages and commands (e.g. the model id; default: ``key``).
        """
        label = label or key
        entry = self.entry(key)
        if entry.bundled:
            return self._check_bundled(entry, label)
        path = self._good_copy(key)
        if path is not None:
            return path
        if self.offline and not self._local_sources(entry):
            raise WeightsError(self._offline_message(key, label))
        folder = self.folder(key)
        try:
            with file_lock(folder / LOCK_NAME, timeout=self.lock_timeout, on_wait=lambda: log.info(
                "waiting for another process that is downloading checkpoint %s", label)):
                path = self._good_copy(key, drop_corrupt=True)
                if path is not None:
                    return path
                return self._download(entry, label, progress)
        except OSError as exc:  # the download errors are WeightsErrors already; this is the disk
            raise WeightsError(
                f"cannot write the checkpoint of {label} into {folder} ({exc.strerror or exc}); free some space, "
                f"or pass --cache-dir (or set {ENV_CACHE_DIR}) to a writable folder"
            ) from exc

    def download(
        self, key: str, *, progress: ProgressFn | None = None, label: str | None = None, force: bool = False
    ) -> Path:
        """Like ``fetch``; ``force`` deletes a cached copy first so that the file is fetched anew."""
        if force and not self.entry(key).bundled:
            with file_lock(self.folder(key) / LOCK_NAME, timeout=self.lock_timeout):
                cached = self.cached(key)
                if cached is not None:
                    cached.unlink()
        return self.fetch(key, progress=progress, label=label)

    def verify(self, key: str) -> VerifyResult:
        """Hash the cached (or bundled) file of ``key`` against the manifest or its pin."""
        entry = self.entry(key)
        path = self.cached(key)
        if path is None:
            return VerifyResult(key, "missing", self.target(key))
        expected = Expected(entry.sha256, entry.size) if entry.bundled else self.expected(key)
        sha, size = hash_file(path)
        if expected is not None and sha == expected.sha256 and (expected.size is None or size == expected.size):
            return VerifyResult(key, "ok", path, "pinned" if expected.pinned else "")
        return VerifyResult(key, "corrupt", path, f"sha256 {sha[:12]}... instead of {expected.sha256[:12]}...")

    # ----------------------------------------------------------------------------------- internals

    def _good_copy(self, key: str, *, drop_corrupt: bool = False) -> Path | None:
        """The cached file if its hash is right; a corrupt one is logged and (under the lock) deleted."""
        path = self.cached(key)
        expected = self.expected(key)
        if path is None or expected is None:
            return None
        sha, size = hash_file(path)
        if sha == expected.sha256 and (expected.size is None or size == expected.size):
            return path
        if drop_corrupt:
            log.warning("cached checkpoint %s fails its sha256 check; downloading it again", path)
            path.unlink()
        return None

    def _download(self, entry: Entry, label: str, progress: ProgressFn | None) -> Path:
        folder = self.folder(entry.key)
        folder.mkdir(parents=True, exist_ok=True)
        expected = self.expected(entry.key)
        part = folder / (f"{expected.sha256[:12]}{entry.suffix}.part" if expected else f"unpinned{entry.suffix}.part")
        if expected is None:
            # Without a known hash a leftover could splice two different files together: start clean.
            part.unlink(missing_ok=True)
        sources = self._local_sources(entry) if self.offline else self._sources(entry)
        failures: list[str] = []
        mismatch: str | None = None
        for source in sources:
            for fresh_try in (False, True):
                try:
                    got = receive(source, part, key=entry.key, expected_size=expected.size if expected else None,
                                  settings=self.transfer, session=self._session(), progress=progress)
                except SourceUnavailable as exc:
                    failures.append(str(exc))
                    break
                except TooLarge as exc:
                    mismatch = mismatch or self._mismatch_message(entry, label, source, str(exc), expected)
                    break
                if expected is None:
                    self._write_pin(entry, source, got.sha256, got.size)
                    log.warning(
                        "checkpoint %s has no published sha256; pinned %s (%d bytes) at this first download, "
                        "and later downloads must match it", label, got.sha256, got.size,
                    )
                    return self._install(part, folder / f"{got.sha256[:12]}{entry.suffix}")
                if got.sha256 == expected.sha256 and (expected.size is None or got.size == expected.size):
                    return self._install(part, folder / f"{got.sha256[:12]}{entry.suffix}")
                part.unlink(missing_ok=True)
                if got.resumed and not fresh_try:
                    continue  # the older partial bytes may be the culprit: fetch the whole file once more
                what = f"sha256 {got.sha256[:12]}... instead of {expected.sha256[:12]}..."
                mismatch = mismatch or self._mismatch_message(entry, label, source, what, expected)
                break
        if mismatch is not None:
            raise WeightsError(mismatch)
        where = "; ".join(failures) or "no download location"
        raise WeightsError(
            f"cannot download the checkpoint of {label}: {where}; check the network or set {ENV_MIRROR} "
            "to a reachable mirror, then run the command again"
        )

    @staticmethod
    def _install(part: Path, final: Path) -> Path:
        os.replace(part, final)
        return final

    def _sources(self, entry: Entry) -> list[str]:
        """Download locations: the manifest's url and mirrors, or only the user's mirror when set."""
        if not self.mirror:
            return list(entry.urls)
        return self._mirror_sources(entry)

    def _local_sources(self, entry: Entry) -> list[str]:
        """The sources that do not touch the network (a mirror folder)."""
        if not self.mirror:
            return []
        return [s for s in self._mirror_sources(entry) if not is_remote(s) and Path(s).is_file()]

    def _mirror_sources(self, entry: Entry) -> list[str]:
        """``<mirror>/<path of the official url>``, then ``<mirror>/<file name>``."""
        mirror = self.mirror or ""
        url_path = urlsplit(entry.url or "").path.lstrip("/")
        names = [url_path, entry.filename] if url_path and url_path != entry.filename else [entry.filename]
        if is_remote(mirror):
            return [f"{mirror.rstrip('/')}/{name}" for name in names]
        base = Path(mirror[len("file://"):] if mirror.startswith("file://") else mirror).expanduser()
        return [str(base / name) for name in names]

    def _session(self) -> requests.Session:
        if self.session is None:
            from vrestore import __version__

            self.session = requests.Session()
            self.session.headers["User-Agent"] = f"vrestore/{__version__}"
        return self.session

    def _bundled_path(self, entry: Entry) -> Path:
        return Path(str(resources.files("vrestore").joinpath(entry.file or "")))

    def _check_bundled(self, entry: Entry, label: str) -> Path:
        path = self._bundled_path(entry)
        if not path.is_file():
            raise WeightsError(f"the bundled checkpoint of {label} is missing ({path}); reinstall vrestore")
        sha, size = hash_file(path)
        if sha != entry.sha256 or size != entry.size:
            raise WeightsError(f"the bundled checkpoint of {label} is corrupt ({path}); reinstall vrestore")
        return path

    def _read_pin(self, key: str) -> dict | None:
        path = self.folder(key) / PIN_NAME
        try:
            pin = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise WeightsError(f"pin file {path} is unreadable ({exc}); delete it and download again") from exc
        if not isinstance(pin, dict) or not isinstance(pin.get("sha256"), str) or len(pin["sha256"]) != 64:
            raise WeightsError(f"pin file {path} is malformed; delete it and download again")
        return pin

    def _write_pin(self, entry: Entry, source: str, sha256: str, size: int) -> None:
        path = self.folder(entry.key) / PIN_NAME
        record = {"sha256": sha256, "size": size, "source": source,
                  "pinned": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, path)

    def _offline_message(self, key: str, label: str) -> str:
        target = self.target(key)
        copy = f"copy it to {target}" if target is not None else (
            f"put {self.entry(key).filename} in a folder and set {ENV_MIRROR} to that folder")
        return (
            f"the checkpoint of {label} is not cached and {ENV_OFFLINE}=1; run 'vrestore models download {label}' "
            f"on a machine with internet, or {copy}"
        )

    def _mismatch_message(self, entry: Entry, label: str, source: str, what: str, expected: Expected) -> str:
        if expected.pinned:
            pin = self.folder(entry.key) / PIN_NAME
            return (
                f"the checkpoint of {label} from {source} differs from the copy pinned at its first download "
                f"({what}) and was refused; if the publisher replaced the file on purpose, delete {pin} and "
                "download again"
            )
        return (
            f"the checkpoint of {label} from {source} does not match weights.toml ({what}) and was not kept; "
            "retry later, or pass a file you trust with --weights"
        )
