"""Request guards: body size (413), per-client rate limit (429) and curator API keys (401)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections import OrderedDict
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from faqtual.config import Settings
from faqtual.errors import ConfigError


async def _send_error(send: Send, status: int, message: str) -> None:
    body = json.dumps({"ok": False, "error": message, "status": status}, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """ASGI middleware: refuse request bodies over ``max_bytes`` with 413.

    Checks ``Content-Length`` first and counts streamed bodies too, so a client
    cannot send a large body by leaving the length out. Paths under
    ``upload_prefix`` get the larger ``upload_bytes``.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int, upload_bytes: int, upload_prefix: str) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes
        self.upload_prefix = upload_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if scope["path"].startswith(self.upload_prefix) else self.max_bytes
        message = f"The request body is larger than {limit:,} bytes; send a shorter question or a smaller file."
        for name, value in scope["headers"]:
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await _send_error(send, 413, message)
                return
        seen = 0
        started = False
        refused = False

        async def counted_receive() -> Message:
            # Past the limit: answer 413 ourselves and tell the app the client left,
            # so it stops reading; whatever it sends afterwards is dropped.
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit and not started:
                    refused = True
                    await _send_error(send, 413, message)
                    return {"type": "http.disconnect"}
            return msg

        async def tracked_send(msg: Message) -> None:
            nonlocal started
            if refused:
                return
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        await self.app(scope, counted_receive, tracked_send)


class RateLimiter:
    """A token bucket per client: ``rate`` questions a second, bursts of ``burst``.

    Keeps at most ``max_clients`` buckets, forgetting the least recently seen.
    """

    def __init__(self, *, rate: float, burst: int, max_clients: int = 10_000) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def retry_after(self, client: str, *, now: float | None = None) -> float:
        """Take one token for ``client``.

        Returns:
            0.0 if the request may go ahead, else the seconds until it may.
        """
        if self.rate <= 0:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[client] = (tokens, now)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        return wait


def key_hash(key: str) -> str:
    """The sha256 hex digest stored for an API key (keys are long random tokens, so no salt is needed)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class ApiKeys:
    """The curator API keys, held only as sha256 digests and compared in constant time."""

    def __init__(self, digests: frozenset[str]) -> None:
        self._digests = digests

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiKeys:
        """Read ``api_key_hashes`` and ``api_key_file``.

        Raises:
            ConfigError: a digest is not 64 hex characters, or the key file cannot be read.
        """
        items = [d.strip().lower() for d in settings.api_key_hashes.split(",") if d.strip()]
        if settings.api_key_file:
            try:
                text = Path(settings.api_key_file).read_text(encoding="utf-8")
            except OSError as exc:
                raise ConfigError(f"Cannot read api_key_file {settings.api_key_file}: {exc.strerror}.") from exc
            items += [line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"]
        for digest in items:
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ConfigError(
                    f"Curator API key digest {digest[:12]!r}... is not a sha256 hex digest. "
                    "Store sha256(key), e.g. from 'faqtual serve --hash-key'."
                )
        return cls(frozenset(items))

    @property
    def enabled(self) -> bool:
        """Whether any key is configured (no key: the curator API refuses everyone)."""
        return bool(self._digests)

    def check(self, authorization: str | None) -> bool:
        """Whether an ``Authorization: Bearer KEY`` header holds a valid key."""
        if not authorization or not authorization.startswith("Bearer "):
            return False
        offered = key_hash(authorization.removeprefix("Bearer ").strip())
        ok = False
        for digest in self._digests:
            ok |= hmac.compare_digest(offered, digest)
        return ok
