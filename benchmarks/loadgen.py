"""The closed-loop HTTP load both serving benchmarks use (serve_load.py, replicas.py)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")
#: What a failed request raises: a refused or dropped connection, a short or malformed response.
FAILURES = (OSError, asyncio.IncompleteReadError, KeyError, ValueError)


@dataclass
class Run:
    """What one load run measured: each answered request's latency, and the failures."""

    seconds: float
    latencies: list[float] = field(default_factory=list)
    failures: int = 0

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, p: float) -> float:
        """The ``p``-th percentile latency in milliseconds (0 when nothing was answered)."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else 0.0

    def add(self, other: Run) -> None:
        """Count ``other``'s requests and seconds in this run too."""
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.failures += other.failures


class Connection:
    """One keep-alive HTTP/1.1 connection that POSTs JSON: the least CPU a client can spend.

    The load generator shares the machine's cores with the server it measures, so
    it is a bare asyncio stream rather than a full client library (httpx spends
    about 1.5 ms of CPU a request, which the server under test would lose).
    """

    def __init__(self, url: str) -> None:
        parsed = urlsplit(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, payload: object) -> tuple[int, bytes]:
        """POST ``payload`` as JSON to ``path``; the status and the body. Reconnects when needed."""
        body = json.dumps(payload).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        if self._writer is None or self._reader is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        try:
            self._writer.write(head + body)
            status_line, *header_lines = (await self._reader.readuntil(b"\r\n\r\n")).split(b"\r\n")
            headers = {k.strip().lower(): v for k, v in (line.split(b":", 1) for line in header_lines if b":" in line)}
            length = int(headers[b"content-length"])  # uvicorn always sends it for these responses
            data = await self._reader.readexactly(length)
            if headers.get(b"connection", b"").strip().lower() == b"close":
                self.close()
        except FAILURES:
            self.close()
            raise
        return int(status_line.split()[1]), data

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


async def ask_back_to_back(url: str, questions: list[str], *, first: int, stride: int, until: float, run: Run) -> None:
    """One client on its own connection: POST ``/v1/ask`` to ``url`` again as soon as each answer arrives.

    It asks ``questions[first]``, then every ``stride``-th question after it
    (round robin), until ``until`` (``time.monotonic()``), and records each
    request in ``run``.
    """
    connection = Connection(url)
    i = first
    try:
        while time.monotonic() < until:
            start = time.perf_counter()
            try:
                status, _ = await connection.post("/v1/ask", {"question": questions[i % len(questions)]})
                ok = status == 200
            except FAILURES:
                ok = False
            if ok:
                run.latencies.append(time.perf_counter() - start)
            else:
                run.failures += 1
            i += stride
    finally:
        connection.close()


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main`` on uvloop when it is installed (faqtual's server uses it too), else on asyncio's loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
