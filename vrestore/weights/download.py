"""Bring one file into a ``*.part`` file: HTTP(S) with Range resume and retries, or a local copy.

The sha256 is computed while the bytes stream in (resumed bytes are hashed from disk first).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

_CHUNK = 1 << 16  # bytes per read; a dropped connection loses at most the chunk in flight


@dataclass(frozen=True)
class DownloadProgress:
    """Bytes of checkpoint ``key`` received so far from ``source``; ``total`` None when unknown."""

    key: str
    source: str
    done: int
    total: int | None
    elapsed_s: float


ProgressFn = Callable[[DownloadProgress], None]


@dataclass(frozen=True)
class TransferSettings:
    """How hard to try: (connect, read) timeouts in seconds, retries after the first attempt, backoff base."""

    timeout: tuple[float, float] = (10.0, 60.0)
    retries: int = 3
    backoff: float = 1.0
    sleep: Callable[[float], None] = time.sleep


@dataclass(frozen=True)
class Received:
    """A finished transfer: hash and size of the ``*.part`` file, and whether it resumed older bytes."""

    sha256: str
    size: int
    resumed: bool


class SourceUnavailable(Exception):
    """This source cannot deliver the file (404, refused, timed out after retries); try the next one."""


class TooLarge(Exception):
    """The source sent more bytes than the expected size (the ``*.part`` file is deleted)."""


class _Transient(Exception):
    """A failure worth retrying (connection dropped, timeout, 5xx)."""


def receive(
    source: str,
    part: Path,
    *,
    key: str,
    expected_size: int | None,
    settings: TransferSettings,
    session: requests.Session | None = None,
    progress: ProgressFn | None = None,
) -> Received:
    """Bring ``source`` (an http(s) url or a local file path) into ``part``; resumes what ``part`` holds."""
    if not is_remote(source):
        return _copy_local(Path(source), part, key=key, progress=progress)
    session = session or requests.Session()
    resumed = part.exists() and part.stat().st_size > 0
    for attempt in range(settings.retries + 1):
        try:
            received = _http_once(source, part, key, expected_size, settings, session, progress)
            return Received(received.sha256, received.size, resumed or received.resumed)
        except _Transient as exc:
            if attempt == settings.retries:
                raise SourceUnavailable(f"{source}: {settings.retries + 1} attempts failed, the last: {exc}") from exc
            settings.sleep(settings.backoff * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _http_once(
    url: str,
    part: Path,
    key: str,
    expected_size: int | None,
    settings: TransferSettings,
    session: requests.Session,
    progress: ProgressFn | None,
) -> Received:
    have = part.stat().st_size if part.exists() else 0
    if expected_size is not None and have > expected_size:
        part.unlink()
        have = 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        response = session.get(url, headers=headers, stream=True, timeout=settings.timeout)
    except requests.Timeout as exc:
        connect, read = settings.timeout
        raise _Transient(f"timed out (timeouts: connect {connect:g} s, read {read:g} s)") from exc
    except requests.RequestException as exc:
        raise _Transient(f"connection failed ({type(exc).__name__})") from exc
    with response:
        status = response.status_code
        if status == 416 and have:
            part.unlink()  # our partial file does not fit the server's file; start over
            raise _Transient("the server refused to resume; restarting")
        if status in (401, 403, 404, 410):
            raise SourceUnavailable(f"{url}: HTTP {status} {response.reason or ''}".rstrip())
        if status == 429 or status >= 500:
            raise _Transient(f"HTTP {status} {response.reason or ''}".rstrip())
        if status not in (200, 206):
            raise SourceUnavailable(f"{url}: unexpected HTTP {status}")
        append = status == 206 and have > 0 and _range_start(response) == have
        if status == 206 and not append:
            part.unlink(missing_ok=True)  # a range we did not ask for: start over without one
            raise _Transient("the server resumed at another offset; restarting")
        if not append:
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length and length.isdigit() else expected_size
        hasher = _hash_prefix(part) if append else hashlib.sha256()
        done = have
        started = time.perf_counter()
        try:
            with open(part, "ab" if append else "wb") as fh:
                for chunk in response.iter_content(_CHUNK):
                    fh.write(chunk)
                    hasher.update(chunk)
                    done += len(chunk)
                    if expected_size is not None and done > expected_size:
                        break
                    if progress is not None:
                        progress(DownloadProgress(key, url, done, total, time.perf_counter() - started))
        except requests.RequestException as exc:
            raise _Transient(f"the connection broke after {done} bytes ({type(exc).__name__})") from exc
    if expected_size is not None and done > expected_size:
        part.unlink()
        raise TooLarge(f"more than the {expected_size} bytes expected")
    if total is not None and done < total:
        raise _Transient(f"the connection closed after {done} of {total} bytes")
    return Received(hasher.hexdigest(), done, append)


def _copy_local(path: Path, part: Path, *, key: str, progress: ProgressFn | None) -> Received:
    if not path.is_file():
        raise SourceUnavailable(f"{path}: no such file")
    hasher = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    started = time.perf_counter()
    with open(path, "rb") as src, open(part, "wb") as dst:
        while chunk := src.read(_CHUNK):
            dst.write(chunk)
            hasher.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(DownloadProgress(key, str(path), done, total, time.perf_counter() - started))
    return Received(hasher.hexdigest(), done, False)


def hash_file(path: Path) -> tuple[str, int]:
    """(sha256 hex, size in bytes) of ``path``."""
    hasher = _hash_prefix(path)
    return hasher.hexdigest(), path.stat().st_size


def _hash_prefix(path: Path) -> hashlib._Hash:
    hasher = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            hasher.update(chunk)
    return hasher


def _range_start(response: requests.Response) -> int | None:
    """First byte of a 206 answer's ``Content-Range: bytes a-b/n``."""
    value = response.headers.get("Content-Range", "")
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def is_remote(source: str) -> bool:
    """True when ``source`` is an http(s) url (reading it touches the network)."""
    return source.startswith(("http://", "https://"))
