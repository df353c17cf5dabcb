"""Prometheus text metrics, kept in memory by one :class:`Metrics` per app.

Exposition format: https://prometheus.io/docs/instrumenting/exposition_formats/
"""

from __future__ import annotations

import bisect
import time
from collections import Counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Latency bucket bounds in seconds (upper bounds; +Inf is implied).
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """Counters and a latency histogram per route."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, int]] = Counter()
        self.buckets: dict[str, list[int]] = {}
        self.sums: dict[str, float] = {}
        self.outcomes: Counter[str] = Counter()

    def observe(self, *, route: str, method: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        self.requests[(route, method, status)] += 1
        counts = self.buckets.setdefault(route, [0] * (len(BUCKETS) + 1))
        counts[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.sums[route] = self.sums.get(route, 0.0) + seconds

    def answered(self, *, answered: bool) -> None:
        """Count one question as answered or abstained on."""
        self.outcomes["answered" if answered else "abstained"] += 1

    def render(self, *, kb_version: int, batches: int, batched_questions: int, dropped_log_lines: int = 0) -> str:
        """The metrics in Prometheus text format."""
        out = [
            "# HELP faqtual_requests_total HTTP requests by route, method and status.",
            "# TYPE faqtual_requests_total counter",
        ]
        for (route, method, status), n in sorted(self.requests.items()):
            out.append(f'faqtual_requests_total{{route="{route}",method="{method}",status="{status}"}} {n}')
        out += [
            "# HELP faqtual_request_seconds HTTP request latency by route.",
            "# TYPE faqtual_request_seconds histogram",
        ]
        for route, counts in sorted(self.buckets.items()):
            running = 0
            for bound, n in zip((*BUCKETS, float("inf")), counts, strict=True):
                running += n
                le = "+Inf" if bound == float("inf") else repr(bound)
                out.append(f'faqtual_request_seconds_bucket{{route="{route}",le="{le}"}} {running}')
            out.append(f'faqtual_request_seconds_sum{{route="{route}"}} {self.sums[route]:.6f}')
            out.append(f'faqtual_request_seconds_count{{route="{route}"}} {running}')
        out += [
            "# HELP faqtual_questions_total Questions by outcome (answered or abstained).",
            "# TYPE faqtual_questions_total counter",
        ]
        for outcome in ("answered", "abstained"):
            out.append(f'faqtual_questions_total{{outcome="{outcome}"}} {self.outcomes[outcome]}')
        out += [
            "# HELP faqtual_encoder_batches_total Query-encoder calls made by the micro-batcher.",
            "# TYPE faqtual_encoder_batches_total counter",
            f"faqtual_encoder_batches_total {batches}",
            "# HELP faqtual_batched_questions_total Questions answered through the micro-batcher.",
            "# TYPE faqtual_batched_questions_total counter",
            f"faqtual_batched_questions_total {batched_questions}",
            "# HELP faqtual_log_lines_dropped_total Question log lines not written (scrubber or store failed).",
            "# TYPE faqtual_log_lines_dropped_total counter",
            f"faqtual_log_lines_dropped_total {dropped_log_lines}",
            "# HELP faqtual_kb_version The version of the KB being served.",
            "# TYPE faqtual_kb_version gauge",
            f"faqtual_kb_version {kb_version}",
        ]
        return "\n".join(out) + "\n"


class MetricsMiddleware:
    """ASGI middleware that times every HTTP request into a :class:`Metrics`."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def tracked_send(msg: Message) -> None:
            nonlocal status
            if msg["type"] == "http.response.start":
                status = int(msg["status"])
            await send(msg)

        try:
            await self.app(scope, receive, tracked_send)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.observe(
                route=route, method=scope["method"], status=status, seconds=time.perf_counter() - start
            )
