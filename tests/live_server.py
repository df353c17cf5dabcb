"""A real ``faqtual serve`` process on loopback, for the web and browser tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FAQ = ROOT / "faqtual" / "data" / "synkinesis.md"
CURATOR_KEY = "test-curator-key-7f3a9c1e5b"


@dataclass(frozen=True)
class LiveServer:
    """A running server: its base URL and the KB file it serves."""

    url: str
    kb: Path
    process: subprocess.Popen[bytes]

    def client(self, **kwargs: object) -> httpx.Client:
        """An httpx client for this server."""
        return httpx.Client(base_url=self.url, timeout=30.0, **kwargs)  # type: ignore[arg-type]


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(tmp: Path, settings: Mapping[str, str]) -> dict[str, str]:
    """The environment for a server: no inherited FAQTUAL_* settings, a private cache, ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAQTUAL_")}
    env.update(HF_HUB_OFFLINE="1", FAQTUAL_CACHE_DIR=str(tmp / "cache"), FAQTUAL_CONFIG=str(tmp / "none.toml"))
    env.update({f"FAQTUAL_{k.upper()}": v for k, v in settings.items()})
    return env


def build_kb(path: Path, *sources: Path) -> Path:
    """Ingest ``sources`` (default: the packaged synkinesis FAQ) into a new KB at ``path``."""
    files = [str(s) for s in sources] or [str(DEFAULT_FAQ)]
    subprocess.run(
        [sys.executable, "-m", "faqtual", "ingest", *files, "--kb", str(path)],
        check=True,
        capture_output=True,
        env=server_env(path.parent, {}),
        timeout=120,
    )
    return path


def wait_ready(url: str, process: subprocess.Popen[bytes], *, timeout: float = 60.0) -> None:
    """Poll ``/readyz`` until it answers 200; fail if the process exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"faqtual serve exited with status {process.returncode}")
            try:
                if client.get(f"{url}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)  # poll interval, bounded by the deadline above
    raise TimeoutError(f"faqtual serve at {url} not ready after {timeout} s")


@contextmanager
def serve(kb: Path, tmp: Path, *, extra_kbs: Sequence[Path] = (), **settings: str) -> Iterator[LiveServer]:
    """Run ``python -m faqtual serve --kb KB [--kb EXTRA ...]`` on a free port until the block ends."""
    port = free_port()
    more = [arg for extra in extra_kbs for arg in ("--kb", str(extra))]
    env = server_env(tmp, {"api_key_hashes": _digest(CURATOR_KEY), **settings})
    log = (tmp / f"serve-{port}.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "faqtual",
            "serve",
            "--kb",
            str(kb),
            *more,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process)
        yield LiveServer(url=url, kb=kb, process=process)
    finally:
        stop_process(process)
        log.close()


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server process (kill it if it will not stop within 10 s). Idempotent."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def copy_kb(source: Path, folder: Path) -> Path:
    """A private copy of a built KB, so a test's writes stay its own."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "kb.sqlite"
    shutil.copyfile(source, target)
    return target


def _digest(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode()).hexdigest()
