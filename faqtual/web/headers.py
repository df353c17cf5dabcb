"""Security headers on every response, errors included, and one JSON shape for unexpected errors.

The policy follows the OWASP Secure Headers Project
(https://owasp.org/www-project-secure-headers/): pages load only their own
scripts and styles and run no inline script, so an answer's text cannot
inject any; no page may be framed; no referrer leaves the site. The one
exception is the embeddable widget (``/static/widget.js``): other sites load
it with ``<script src>``, so it is served with ``Cross-Origin-Resource-Policy:
cross-origin`` and without the frame rules, which mean nothing for a script.
The API docs page (``/docs``) runs Swagger UI's one inline script, allowed by
its hash rather than by ``'unsafe-inline'``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

WIDGET_PATH = "/static/widget.js"

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

#: Headers sent with every response (see the module docstring for the exceptions).
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_WIDGET_HEADERS = {
    **{k: v for k, v in SECURITY_HEADERS.items() if k != "X-Frame-Options"},
    "Content-Security-Policy": "default-src 'none'",
    "Cross-Origin-Resource-Policy": "cross-origin",
}

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.DOTALL)


def docs_policy(html: bytes) -> str:
    """The CSP of the API docs page: ours, plus the hashes of its inline scripts (CSP Level 2 hash sources)."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(m.group(1)).digest()).decode()}'"
        for m in _INLINE_SCRIPT.finditer(html)
    )
    return _CSP.replace("script-src 'self'", f"script-src 'self' {hashes}".rstrip())


def _headers_for(path: str) -> dict[str, str]:
    return _WIDGET_HEADERS if path == WIDGET_PATH else SECURITY_HEADERS


class SecurityHeaders:
    """ASGI middleware: add :data:`SECURITY_HEADERS` to every response the app sends.

    A header the route set itself (the ``/docs`` CSP) is kept. An exception
    that escapes the app becomes a 500 in the error shape
    ``{"ok": false, "error": str, "status": 500}``, with the headers, before it is re-raised
    for the server to log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in _headers_for(scope["path"]).items()]
        started = False

        async def secured_send(msg: Message) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in msg.get("headers", [])}
                msg = {**msg, "headers": [*msg.get("headers", []), *(h for h in extra if h[0] not in present)]}
            await send(msg)

        try:
            await self.app(scope, receive, secured_send)
        except Exception:
            if not started:
                body = json.dumps(
                    {"ok": False, "error": "Internal server error; the server log has the details.", "status": 500}
                ).encode()
                await secured_send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
            raise
