"""Several KBs answering as one, in an order of precedence.

A small curated KB (the synkinesis FAQ) goes first and a big general one
(MedQuAD) after it: the first KB whose best answer clears *its own*
threshold answers. When none does, the result abstains with the first KB's
no-answer message and lists the closest candidates of every KB. Each answer
names the KB it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from faqtual.models import AskResult
from faqtual.service import FaqService


class KbRouter:
    """Answers from the first of ``services`` that is sure enough.

    Args:
        services: one service per KB, highest precedence first.
    """

    def __init__(self, services: Sequence[FaqService]) -> None:
        if not services:
            raise ValueError("KbRouter needs at least one service")
        self.services = tuple(services)

    def ask(self, question: str, *, top: int | None = None) -> AskResult:
        """Answer one question (see :meth:`ask_many`)."""
        return self.ask_many([question], top=top)[0]

    def ask_many(self, questions: Sequence[str], *, top: int | None = None) -> list[AskResult]:
        """Answer each question from the first KB that answers it.

        Raises:
            BadQueryError: a question is empty, too long or not text.
        """
        per_kb = [service.ask_many(questions, top=top) for service in self.services]
        k = top if top is not None else self.services[0].settings.top
        return [self._pick([results[n] for results in per_kb], k) for n in range(len(questions))]

    @staticmethod
    def _pick(results: list[AskResult], k: int) -> AskResult:
        first = results[0]
        if first.safety is not None:
            return first
        for result in results:
            if result.answered:
                return result
        pooled = sorted((a for r in results for a in r.answers), key=lambda a: -a.confidence)[:k]
        # Pooled answers may come from several KBs, each with its own version.
        return replace(first, answers=tuple(pooled), did_you_mean=(), related=(), kb_version=None)

    def threshold(self) -> float:
        """The first KB's threshold (each KB applies its own when answering)."""
        return self.services[0].threshold()
