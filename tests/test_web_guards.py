"""The web guards and metrics as plain objects (no server): rate limit, API keys, micro-batching."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from faqtual.config import Settings
from faqtual.errors import ConfigError
from faqtual.models import AskResult
from faqtual.web.batching import MicroBatcher
from faqtual.web.guards import ApiKeys, RateLimiter, key_hash
from faqtual.web.metrics import Metrics


def test_rate_limiter_allows_a_burst_then_refills_at_the_rate() -> None:
    limiter = RateLimiter(rate=2.0, burst=3)
    assert [limiter.retry_after("a", now=0.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.retry_after("a", now=0.0) == pytest.approx(0.5)
    assert limiter.retry_after("b", now=0.0) == 0.0  # another client is not affected
    assert limiter.retry_after("a", now=1.0) == 0.0  # two tokens came back in one second


def test_rate_limiter_forgets_the_oldest_clients() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, max_clients=2)
    for client in "abc":
        limiter.retry_after(client, now=0.0)
    assert limiter.retry_after("a", now=0.0) == 0.0  # "a" was forgotten, so it starts with a full bucket


def test_api_keys_accept_only_a_configured_key() -> None:
    keys = ApiKeys.from_settings(Settings(api_key_hashes=f" {key_hash('s3cret')} , {key_hash('other')}"))
    assert keys.check("Bearer s3cret") and keys.check("Bearer other")
    assert not keys.check("Bearer s3cre") and not keys.check("s3cret") and not keys.check(None)
    assert not ApiKeys.from_settings(Settings()).check("Bearer ")


def test_api_key_file_is_read_and_bad_digests_are_named(tmp_path: Path) -> None:
    path = tmp_path / "keys.txt"
    path.write_text(f"# curators\n{key_hash('from-file')}\n", encoding="utf-8")
    assert ApiKeys.from_settings(Settings(api_key_file=str(path))).check("Bearer from-file")
    with pytest.raises(ConfigError, match="not a sha256 hex digest"):
        ApiKeys.from_settings(Settings(api_key_hashes="plain-text-key"))
    with pytest.raises(ConfigError, match="Cannot read api_key_file"):
        ApiKeys.from_settings(Settings(api_key_file=str(path) + ".missing"))


def test_metrics_render_prometheus_text() -> None:
    metrics = Metrics()
    metrics.observe(route="/v1/ask", method="POST", status=200, seconds=0.02)
    metrics.observe(route="/v1/ask", method="POST", status=200, seconds=3.0)
    metrics.answered(answered=False)
    text = metrics.render(kb_version=7, batches=1, batched_questions=2)
    assert 'faqtual_requests_total{route="/v1/ask",method="POST",status="200"} 2' in text
    assert 'faqtual_request_seconds_bucket{route="/v1/ask",le="0.025"} 1' in text
    assert 'faqtual_request_seconds_bucket{route="/v1/ask",le="+Inf"} 2' in text
    assert 'faqtual_questions_total{outcome="abstained"} 1' in text
    assert text.endswith("faqtual_kb_version 7\n")


def test_micro_batcher_answers_concurrent_questions_in_one_call() -> None:
    calls: list[list[str]] = []

    def answer_many(questions: Sequence[str], top: int | None, kb: str | None) -> list[AskResult]:
        calls.append(list(questions))
        return [AskResult(question=q, answered=False, answers=(), message=None) for q in questions]

    async def scenario() -> list[str]:
        batcher = MicroBatcher(answer_many, max_size=8, wait=0.05, workers=1)
        await batcher.start()
        try:
            results = await asyncio.gather(*(batcher.ask(f"q{i}", top=None) for i in range(10)))
        finally:
            await batcher.stop()
        return [r.question for r in results]

    assert asyncio.run(scenario()) == [f"q{i}" for i in range(10)]
    assert [len(c) for c in calls] == [8, 2]


def test_micro_batcher_answers_two_batches_at_once() -> None:
    # Each call waits until a second call is running too: this passes only if two batches overlap.
    both_running = threading.Barrier(2, timeout=5)

    def answer_many(questions: Sequence[str], top: int | None, kb: str | None) -> list[AskResult]:
        both_running.wait()
        return [AskResult(question=q, answered=False, answers=(), message=None) for q in questions]

    async def scenario() -> list[str]:
        batcher = MicroBatcher(answer_many, max_size=2, wait=0.0, workers=2)
        await batcher.start()
        try:
            results = await asyncio.gather(*(batcher.ask(f"q{i}", top=None) for i in range(4)))
        finally:
            await batcher.stop()
        return [r.question for r in results]

    assert asyncio.run(scenario()) == ["q0", "q1", "q2", "q3"]


def test_micro_batcher_hands_errors_to_every_waiting_question() -> None:
    def broken(questions: Sequence[str], top: int | None, kb: str | None) -> list[AskResult]:
        raise ConfigError("broken")

    async def scenario() -> list[object]:
        batcher = MicroBatcher(broken, max_size=4, wait=0.01)
        await batcher.start()
        try:
            return await asyncio.gather(*(batcher.ask("q", top=None) for _ in range(3)), return_exceptions=True)
        finally:
            await batcher.stop()

    assert all(isinstance(r, ConfigError) for r in asyncio.run(scenario()))
