"""Micro-batching: questions that arrive together are encoded in one call.

A worker task takes the first waiting question, gathers whatever else
arrives within ``wait`` seconds (up to ``max_size``), and answers them with one
:meth:`FaqService.ask_many` call in a worker thread. Under load the queue fills
while a batch runs, so batches grow by themselves; when idle a question waits
at most ``wait``. Several workers (``batch_workers``, default two) share the
queue, so one batch is encoded while another's candidates are scored; one
worker alone leaves the encoder idle during scoring. Batches stay small
(``batch_max``, default 8): the encoder's cost grows with the tokens it reads,
so a big batch saves little, and every question in it waits for the slowest.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from faqtual.models import AskResult

log = logging.getLogger(__name__)

#: Answers checked questions with one encoder call: (questions, top, kb name or None for all KBs).
AnswerMany = Callable[[Sequence[str], int | None, str | None], list[AskResult]]


@dataclass
class _Pending:
    question: str
    top: int | None
    kb: str | None
    future: asyncio.Future[AskResult] = field(repr=False)


class MicroBatcher:
    """Answers questions in batches.

    Args:
        answer_many: answers a list of (already checked) questions with one encoder call.
        max_size: most questions in one batch.
        wait: seconds to wait for more questions after the first.
        workers: batches answered at the same time.
    """

    def __init__(self, answer_many: AnswerMany, *, max_size: int, wait: float, workers: int = 2) -> None:
        self._answer_many = answer_many
        self._max_size = max(1, max_size)
        self._wait = max(0.0, wait)
        self._workers = max(1, workers)
        self._queue: asyncio.Queue[_Pending] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.batches = 0
        self.questions = 0

    async def start(self) -> None:
        """Start the workers on the running loop."""
        queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._queue = queue
        self._tasks = [asyncio.create_task(self._run(queue), name=f"faqtual-batcher-{n}") for n in range(self._workers)]

    async def stop(self) -> None:
        """Stop the workers; questions still queued fail with ``CancelledError``. Idempotent."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    async def ask(self, question: str, *, top: int | None, kb: str | None = None) -> AskResult:
        """Answer one question in the next batch (from the KB named ``kb``, or as the app routes it).

        Raises:
            RuntimeError: the batcher was not started (programmer error).
        """
        if self._queue is None or not self._tasks:
            raise RuntimeError("MicroBatcher.start() was not awaited")
        future: asyncio.Future[AskResult] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(question, top, kb, future))
        return await future

    async def _gather(self, queue: asyncio.Queue[_Pending]) -> list[_Pending]:
        batch = [await queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._wait
        while len(batch) < self._max_size:
            if not queue.empty():
                batch.append(queue.get_nowait())
                continue
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(queue.get(), remaining))
            except TimeoutError:
                break
        return batch

    async def _run(self, queue: asyncio.Queue[_Pending]) -> None:
        while True:
            batch = [p for p in await self._gather(queue) if not p.future.done()]
            groups: dict[tuple[int | None, str | None], list[_Pending]] = {}
            for pending in batch:
                groups.setdefault((pending.top, pending.kb), []).append(pending)
            for (top, kb), group in groups.items():
                try:
                    results = await asyncio.to_thread(self._answer_many, [p.question for p in group], top, kb)
                except Exception as exc:  # handed to every waiting request, which reports it
                    for p in group:
                        if not p.future.done():
                            p.future.set_exception(exc)
                    continue
                self.batches += 1
                self.questions += len(group)
                for p, result in zip(group, results, strict=True):
                    if not p.future.done():
                        p.future.set_result(result)
