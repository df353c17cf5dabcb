"""The closed-loop HTTP load both serving benchmarks use (serve_load.py, replicas.py)."""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass, field

import httpx


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


async def ask_back_to_back(
    client: httpx.AsyncClient, url: str, questions: list[str], *, first: int, stride: int, until: float, run: Run
) -> None:
    """One client: POST ``/v1/ask`` to ``url`` again as soon as each answer arrives, until ``until``.

    It asks ``questions[first]``, then every ``stride``-th question after it
    (round robin), and records each request in ``run``.
    """
    i = first
    while time.monotonic() < until:
        start = time.perf_counter()
        try:
            r = await client.post(f"{url}/v1/ask", json={"question": questions[i % len(questions)]})
            ok = r.status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok:
            run.latencies.append(time.perf_counter() - start)
        else:
            run.failures += 1
        i += stride


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
