"""A tiny HTTP file server on 127.0.0.1 for download tests (stdlib http.server in a thread).

It serves in-memory files with HTTP Range support and can misbehave on purpose: drop the connection
after N bytes, stall before answering, answer with a forced status, ignore Range, or stream slowly.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from vrestore.weights.download import TransferSettings
from vrestore.weights.manifest import Manifest, parse_manifest
from vrestore.weights.store import Store

FAST = TransferSettings(timeout=(2.0, 0.3), retries=3, backoff=0.0, sleep=lambda s: None)


@dataclass
class FileServer:
    """Server state; tests mutate the fields to script its behaviour."""

    files: dict[str, bytes] = field(default_factory=dict)
    drops: dict[str, list[int]] = field(default_factory=dict)  # path -> per-request byte counts, then hang up
    stall: dict[str, float] = field(default_factory=dict)  # path -> seconds to wait before answering
    status: dict[str, int] = field(default_factory=dict)  # path -> forced HTTP status
    ignore_range: bool = False
    chunk_delay: float = 0.0  # seconds between 16 KiB chunks
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    port: int = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def gets(self, path: str) -> list[str | None]:
        """The Range headers of the requests for ``path``, in order."""
        return [rng for p, rng in self.requests if p == path]


class _Handler(BaseHTTPRequestHandler):
    state: FileServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        state = self.server.state  # type: ignore[attr-defined]
        rng = self.headers.get("Range")
        state.requests.append((self.path, rng))
        if self.path in state.stall:
            time.sleep(state.stall[self.path])
        if self.path in state.status:
            self.send_error(state.status[self.path])
            return
        data = state.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        if rng and not state.ignore_range:
            start = int(rng.split("=", 1)[1].split("-", 1)[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        drops = state.drops.get(self.path)
        limit = drops.pop(0) if drops else None
        body = data[start:]
        sent = 0
        while sent < len(body):
            end = len(body) if limit is None else min(len(body), limit)
            piece = body[sent:min(end, sent + 16384)]
            if not piece:
                break
            self.wfile.write(piece)
            sent += len(piece)
            if state.chunk_delay:
                self.wfile.flush()
                time.sleep(state.chunk_delay)
        if limit is not None and sent < len(body):
            self.close_connection = True  # hang up mid-file


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that time out leave broken pipes behind; not interesting


@pytest.fixture()
def file_server() -> Iterator[FileServer]:
    """A running FileServer on 127.0.0.1 (a free port)."""
    state = FileServer()
    server = _Server(("127.0.0.1", 0), _Handler)
    server.state = state  # type: ignore[attr-defined]
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def payload(size: int = 300_000, seed: int = 1) -> bytes:
    """Deterministic pseudo-random bytes."""
    out = bytearray()
    block = seed.to_bytes(8, "little")
    while len(out) < size:
        block = hashlib.sha256(block).digest()
        out += block
    return bytes(out[:size])


def manifest_for(key: str, url: str, data: bytes | None, **extra: object) -> Manifest:
    """A one-entry manifest for ``url``; ``data`` None makes the entry "unverified"."""
    extra = {"license": "MIT", "source": "test", **extra}
    lines = [f'["{key}"]', f'url = "{url}"']
    if data is None:
        lines.append('sha256 = "unverified"')
    else:
        lines += [f'sha256 = "{sha(data)}"', f"size = {len(data)}"]
    for name, value in extra.items():
        lines.append(f"{name} = {value!r}".replace("'", '"'))
    return parse_manifest("\n".join(lines) + "\n", "test.toml")


def make_store(cache: Path, manifest: Manifest, **kwargs: object) -> Store:
    """A Store with fast retries and short timeouts, network on unless told otherwise."""
    kwargs.setdefault("offline", False)
    kwargs.setdefault("mirror", "")
    kwargs.setdefault("transfer", FAST)
    return Store(cache, manifest=manifest, **kwargs)
