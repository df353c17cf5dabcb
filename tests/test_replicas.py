"""Two ``faqtual serve`` replicas on one PostgreSQL KB, under load (issue 5).

A curator adds, edits and deletes an entry through one replica while a few
threads ask both: no request fails, both replicas serve each change within
2 s of the curator's call returning, and every response comes from one KB
version (the ``X-KB-Version`` header) whose content it matches. Then one
replica is killed with SIGKILL and PostgreSQL is stopped and started under
load: the replicas keep answering from their last index, ``/readyz`` reports
the stale one, and nothing the curator wrote is lost.

Real processes, real PostgreSQL, loopback only; PostgreSQL tests skip (fail
under CI) without ``FAQTUAL_TEST_PG_DSN``, as in ``tests/contract``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from contract.conftest import _pg_dsn_from_env, pg_dsn, pg_schema_dsn  # noqa: F401  (fixtures)
from live_server import CURATOR_KEY, DEFAULT_FAQ, _digest, free_port, server_env, stop_process, wait_ready

pytestmark = [pytest.mark.postgres, pytest.mark.model, pytest.mark.slow]

AUTH = {"Authorization": f"Bearer {CURATOR_KEY}"}
KB_VERSION = "x-kb-version"
#: The bar of issue 5: a curator change is served by every replica within this many seconds.
VISIBLE_WITHIN = 2.0
#: Questions the load asks; the first one finds the curator's entry once it exists.
QUESTIONS = (
    "Is there parking at the clinic?",
    "Why does my eye close when I smile?",
    "How long does Botox last?",
    "Who should I see about synkinesis?",
)
PARKING = "Is there parking at the clinic?"


# -- processes -------------------------------------------------------------------------


@dataclass
class Replica:
    """One ``faqtual serve`` process on a loopback port."""

    url: str
    process: subprocess.Popen[bytes]


def ingest(dsn: str, tmp: Path) -> None:
    """Create the KB from the packaged synkinesis FAQ (KB version 1)."""
    subprocess.run(
        [sys.executable, "-m", "faqtual", "ingest", str(DEFAULT_FAQ), "--kb", dsn],
        check=True,
        capture_output=True,
        env=server_env(tmp, {}),
        timeout=300,
    )


@contextmanager
def replica(dsn: str, tmp: Path, **settings: str) -> Iterator[Replica]:
    """``faqtual serve`` on the KB at ``dsn`` (given by ``FAQTUAL_STORE``, never on the command line)."""
    port = free_port()
    env = server_env(
        tmp,
        {"store": dsn, "api_key_hashes": _digest(CURATOR_KEY), "rate_limit": "0", **settings},
    )
    log = (tmp / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "faqtual", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, timeout=120.0)
        yield Replica(url, process)
    finally:
        stop_process(process)
        log.close()


# -- load ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """One asked question: which replica, when, and what came back (or the failure)."""

    replica: str
    thread: int
    sent: float
    seconds: float
    status: int | None
    kb_version: int | None
    answers: tuple[tuple[str, str], ...]  # (entry_id, answer text)
    failure: str | None


@dataclass
class Load:
    """A few threads asking the replicas in turn, bounded in requests and time."""

    targets: list[str]
    threads: int = 3
    max_requests: int = 4000
    max_seconds: float = 120.0
    replies: list[Reply] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        """Start the threads."""
        deadline = time.monotonic() + self.max_seconds
        for n in range(self.threads):
            worker = threading.Thread(target=self._run, args=(n, deadline), daemon=True)
            worker.start()
            self._workers.append(worker)

    def drop(self, url: str) -> None:
        """Stop sending to ``url`` (e.g. a replica about to be killed), as a load balancer would."""
        with self._lock:
            self.targets = [t for t in self.targets if t != url]

    def stop(self) -> list[Reply]:
        """Stop the threads and return every reply."""
        self._stop.set()
        for worker in self._workers:
            worker.join(timeout=60)
        assert not any(w.is_alive() for w in self._workers), "a load thread did not stop"
        return list(self.replies)

    def _run(self, n: int, deadline: float) -> None:
        per_thread = self.max_requests // self.threads
        with httpx.Client(timeout=30.0) as client:
            for i in range(per_thread):
                if self._stop.is_set() or time.monotonic() > deadline:
                    return
                with self._lock:
                    targets = list(self.targets)
                url = targets[(i + n) % len(targets)]
                self._record(client, url, n, QUESTIONS[(i * 7 + n) % len(QUESTIONS)])

    def _record(self, client: httpx.Client, url: str, n: int, question: str) -> None:
        sent = time.monotonic()
        try:
            response = client.get(f"{url}/v1/ask", params={"q": question})
        except httpx.HTTPError as exc:
            reply = Reply(url, n, sent, time.monotonic() - sent, None, None, (), repr(exc))
        else:
            ok = response.status_code == 200
            body = response.json() if ok else {}
            version = response.headers.get(KB_VERSION)
            reply = Reply(
                url,
                n,
                sent,
                time.monotonic() - sent,
                response.status_code,
                int(version) if version is not None else None,
                tuple((a["entry_id"], a["answer"]) for a in body.get("answers", ())),
                None if ok and version is not None else f"{response.status_code}: {response.text[:200]}",
            )
        with self._lock:
            self.replies.append(reply)


@contextmanager
def load(targets: list[str], **options: float) -> Iterator[Load]:
    """Run a :class:`Load` for the block; it is stopped however the block ends."""
    running = Load(list(targets), **options)  # type: ignore[arg-type]
    running.start()
    try:
        yield running
    finally:
        running.stop()


# -- the curator and what each version holds ----------------------------------------------


@dataclass
class History:
    """What the curator's entry holds at each acknowledged KB version (``None``: absent)."""

    by_version: dict[int, str | None] = field(default_factory=lambda: {1: None})

    def at(self, version: int) -> str | None:
        """The entry's answer at ``version`` (the latest acknowledged change at or before it)."""
        return self.by_version[max(v for v in self.by_version if v <= version)]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str) -> float:
    """Poll ``condition`` until it holds; seconds it took. Fails after ``timeout``."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.02)  # poll interval, bounded by the timeout above
    return time.monotonic() - start


def serves(url: str, version: int, answer: str | None) -> Callable[[], bool]:
    """Whether ``url`` answers the parking question from ``version`` or later, with ``answer`` (or without it)."""

    def check() -> bool:
        response = httpx.get(f"{url}/v1/ask", params={"q": PARKING}, timeout=10.0)
        response.raise_for_status()
        if int(response.headers[KB_VERSION]) < version:
            return False
        found = {a["entry_id"]: a["answer"] for a in response.json()["answers"]}
        return found.get("parking") == answer if answer is not None else "parking" not in found

    return check


def readyz_is(url: str, status: int) -> Callable[[], bool]:
    """Whether ``url``'s ``/readyz`` answers ``status``."""
    return lambda: httpx.get(f"{url}/readyz", timeout=10.0).status_code == status


def curate(
    writer: str, method: str, answer: str | None, history: History, readers: list[str]
) -> tuple[int, list[float]]:
    """One curator call through ``writer``; then seconds until each of ``readers`` serves it."""
    body = {"question": PARKING, "answer": answer or "-", "alternates": ["Where can I park?"]}
    with httpx.Client(base_url=writer, headers=AUTH, timeout=30.0) as client:
        if method == "DELETE":
            response = client.delete("/v1/admin/entries/parking")
        else:
            response = client.put("/v1/admin/entries/parking", json=body)
    assert response.status_code == 200, response.text
    version = int(response.json()["kb_version"])
    history.by_version[version] = answer
    delays = [
        wait_until(serves(url, version, answer), timeout=VISIBLE_WITHIN, what=f"{method} v{version} on {url}")
        for url in readers
    ]
    return version, delays


def check_replies(replies: list[Reply], history: History, *, healthy: set[str]) -> None:
    """No failures on ``healthy`` replicas; each reply matches its one KB version; versions never go back."""
    failed = [r for r in replies if r.failure is not None and r.replica in healthy]
    assert not failed, f"{len(failed)} of {len(replies)} requests failed, e.g. {failed[:3]}"
    last: dict[tuple[str, int], int] = {}
    for r in sorted((r for r in replies if r.failure is None), key=lambda r: r.sent):
        assert r.kb_version is not None
        want = history.at(r.kb_version)
        got = [text for entry_id, text in r.answers if entry_id == "parking"]
        # Mixed versions would show as an answer text of another version, or an entry that is absent at r.kb_version.
        assert all(text == want for text in got), (r, want)
        key = (r.replica, r.thread)
        assert r.kb_version >= last.get(key, 0), f"{r.replica} went back from v{last[key]} to v{r.kb_version}"
        last[key] = r.kb_version


# -- PostgreSQL itself ---------------------------------------------------------------------


def pg_cluster(dsn: str) -> tuple[str, str]:
    """The Debian cluster (version, name) serving ``dsn``; skips if this machine cannot restart it."""
    if shutil.which("pg_ctlcluster") is None or shutil.which("pg_lsclusters") is None or os.geteuid() != 0:
        reason = "restarting PostgreSQL needs root and Debian's pg_ctlcluster/pg_lsclusters"
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {reason}")
        pytest.skip(reason)
    port = str(urlsplit(dsn).port or 5432) if "://" in dsn else "5432"
    listing = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True, check=True).stdout
    for line in listing.splitlines():
        version, name, cluster_port, *_ = line.split()
        if cluster_port == port:
            return version, name
    pytest.skip(f"no local Debian cluster listens on port {port} (pg_lsclusters: {listing.strip()!r})")


def pg_ctl(cluster: tuple[str, str], action: str) -> None:
    """``pg_ctlcluster VERSION NAME ACTION`` (``stop`` is a fast shutdown)."""
    subprocess.run(["pg_ctlcluster", *cluster, action], check=True, capture_output=True, timeout=120)


def entries_in_db(url: str) -> dict[str, str]:
    """What the database holds, read through a replica's ``/v1/entries`` (a snapshot read)."""
    response = httpx.get(f"{url}/v1/entries", timeout=30.0)
    response.raise_for_status()
    return {e["entry_id"]: e["answer"] for e in response.json()}


# -- tests -----------------------------------------------------------------------------------


@pytest.fixture
def kb(pg_schema_dsn: str, tmp_path: Path) -> str:  # noqa: F811
    """A fresh KB (its own schema) holding the synkinesis FAQ, version 1."""
    ingest(pg_schema_dsn, tmp_path)
    return pg_schema_dsn


def test_curator_changes_reach_both_replicas_under_load(kb: str, tmp_path: Path) -> None:
    history = History()
    with replica(kb, tmp_path) as a, replica(kb, tmp_path) as b:
        urls = [a.url, b.url]
        with load(urls) as running:
            wait_until(lambda: len(running.replies) > 30, timeout=30, what="load warm-up")
            delays = []
            for method, answer in (
                ("PUT", "Yes, free parking behind the building."),
                ("PUT", "Yes: 40 free spaces behind the building, two for disabled badge holders."),
                ("DELETE", None),
                ("PUT", "Parking is back: level -1 of the hospital car park."),
            ):
                _, seconds = curate(a.url, method, answer, history, urls)
                delays += seconds
            wait_until(lambda: len(running.replies) > 200, timeout=60, what="load of 200 requests")
        replies = running.replies
    check_replies(replies, history, healthy=set(urls))
    assert {r.replica for r in replies} == set(urls)
    assert max(delays) < VISIBLE_WITHIN
    versions = {r.kb_version for r in replies}
    assert len(versions) >= 3, f"the load saw only versions {versions}: it did not overlap the curator"
    print(f"\n{len(replies)} requests, 0 failed; visible after {max(delays) * 1000:.0f} ms at most")


def test_replicas_survive_sigkill_and_a_postgresql_restart(kb: str, tmp_path: Path) -> None:
    cluster = pg_cluster(kb)
    history = History()
    acknowledged: dict[str, str | None] = {}
    with ExitStack() as stack:
        a = stack.enter_context(replica(kb, tmp_path, max_staleness_s="3"))
        b = stack.enter_context(replica(kb, tmp_path, max_staleness_s="3"))
        urls = [a.url, b.url]
        running = stack.enter_context(load(urls, max_seconds=240.0))
        wait_until(lambda: len(running.replies) > 30, timeout=30, what="load warm-up")
        curate(a.url, "PUT", "Before the outage: free parking.", history, urls)
        acknowledged["parking"] = "Before the outage: free parking."

        # PostgreSQL goes away under load: both keep answering from their last index ...
        pg_ctl(cluster, "stop")
        try:
            before = len(running.replies)
            wait_until(lambda: len(running.replies) > before + 20, timeout=60, what="answers while down")
            # ... and report not-ready once their version is older than max_staleness_s.
            for url in urls:
                wait_until(
                    readyz_is(url, 503),
                    timeout=30,
                    what=f"{url}/readyz 503 while PostgreSQL is down",
                )
        finally:
            pg_ctl(cluster, "start")
        for url in urls:
            wait_until(
                readyz_is(url, 200),
                timeout=30,
                what=f"{url}/readyz 200 after PostgreSQL is back",
            )
        # Caught up: a change after the restart reaches both within the bar.
        curate(a.url, "PUT", "After the restart: level -1.", history, urls)
        acknowledged["parking"] = "After the restart: level -1."

        # SIGKILL one replica under load (the balancer stops sending to it): the other keeps answering.
        killed_at = time.monotonic()
        running.drop(b.url)
        os.kill(b.process.pid, signal.SIGKILL)
        b.process.wait(timeout=10)
        before = len(running.replies)
        wait_until(lambda: len(running.replies) > before + 50, timeout=60, what="answers after SIGKILL")
        curate(a.url, "PUT", "After the kill: still level -1.", history, [a.url])
        acknowledged["parking"] = "After the kill: still level -1."
        replies = running.stop()
        held = entries_in_db(a.url)

    # Requests to b that were in flight when it died may fail; nothing else may.
    check_replies(
        [r for r in replies if r.replica == a.url or r.sent + r.seconds < killed_at], history, healthy={a.url, b.url}
    )
    assert {k: held.get(k) for k in acknowledged} == acknowledged, "an acknowledged curator write was lost"
    assert len(held) == 16  # the 15 FAQ entries and the curator's
    slowest = max(r.seconds for r in replies if r.failure is None)
    print(f"\n{len(replies)} requests; slowest answer {slowest:.2f} s (PostgreSQL was down for part of the run)")
