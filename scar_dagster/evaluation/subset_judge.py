"""Pairwise judging in the AlpacaEval manner, both orders asked to cancel position bias.

For one instruction and the answers of models X and Y, the judge sees the instruction and two
answers labelled (a) and (b) and names the better; it is asked twice, X as (a) then Y as (a).
The outcome for X is ``win`` when both orders pick X, ``loss`` when both pick Y, ``tie`` when
the orders disagree (position bias) or the two answers are the same text (not asked). A failed
request or a reply naming neither answer **excludes** the instruction with a reason; it is never
counted as a loss. The prompt is written for this project (not AlpacaEval's own template).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from scar_dagster.llm.types import ChatRequest, ChatResult

WIN, LOSS, TIE = "win", "loss", "tie"
TIE_ORDERS_DISAGREE = "orders_disagree"
TIE_IDENTICAL_ANSWERS = "identical_answers"
JUDGE_FAILED = "subset_eval_judge_failed"  # the request failed after every retry
JUDGE_UNPARSEABLE = "subset_eval_judge_unparseable"  # the reply names neither (a) nor (b)

JUDGE_SYSTEM = "You are a careful, impartial judge of answers to instructions."
JUDGE_TEMPLATE = (
    "Which answer follows the instruction better: more helpful, correct and clear? "
    "Ignore the order in which they are shown and do not prefer an answer for its length.\n\n"
    "Instruction:\n{instruction}\n\n"
    "Answer (a):\n{a}\n\n"
    "Answer (b):\n{b}\n\n"
    "Reply with one letter only: a or b."
)
_VERDICT = re.compile(
    r"^\W*(?:(?:the\s+)?(?:better\s+)?(?:answer|output|verdict)\s*(?:is\s*)?:?\s*)?"
    r"\(?([ab])\)?\W*$",
    re.IGNORECASE,
)


def judge_request(instruction: str, a: str, b: str, max_tokens: int) -> ChatRequest:
    """The judge's chat for one order of two answers."""
    content = JUDGE_TEMPLATE.format(instruction=instruction, a=a, b=b)
    messages = [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": content}]
    return ChatRequest.of(messages, max_tokens=max_tokens)


def parse_verdict(text: str | None) -> str | None:
    """``"a"`` or ``"b"`` when the reply is a verdict and nothing else (its first line, in
    forms like ``a``, ``(b)``, ``Answer (a)``, ``Better answer: b``), else ``None``."""
    if not text or not text.strip():
        return None
    match = _VERDICT.match(text.strip().splitlines()[0])
    return match.group(1).lower() if match else None


@dataclass(frozen=True)
class Judgement:
    """The outcome for model X against Y on one instruction, or why it is excluded."""

    outcome: str | None  # win | loss | tie; None when excluded
    reason: str | None = None  # tie reason or exclusion reason
    verdicts: tuple[str | None, str | None] = (None, None)  # X first, then Y first

    @property
    def excluded(self) -> bool:
        return self.outcome is None


def pairwise_requests(
    instructions: Sequence[str], x: Sequence[str], y: Sequence[str], max_tokens: int
) -> list[ChatRequest]:
    """Both orders of every instruction whose two answers differ (X first, then Y first)."""
    requests = []
    for instruction, answer_x, answer_y in zip(instructions, x, y, strict=True):
        if answer_x != answer_y:
            requests.append(judge_request(instruction, answer_x, answer_y, max_tokens))
            requests.append(judge_request(instruction, answer_y, answer_x, max_tokens))
    return requests


def judgements(
    x: Sequence[str], y: Sequence[str], results: Sequence[ChatResult]
) -> list[Judgement]:
    """Outcomes for X per instruction, from the replies to :func:`pairwise_requests`."""
    out, replies = [], iter(results)
    for answer_x, answer_y in zip(x, y, strict=True):
        if answer_x == answer_y:
            out.append(Judgement(TIE, TIE_IDENTICAL_ANSWERS))
            continue
        out.append(_combine(next(replies), next(replies)))
    if next(replies, None) is not None:
        raise ValueError("more judge replies than asked comparisons")
    return out


def _combine(x_first: ChatResult, y_first: ChatResult) -> Judgement:
    """Order 1 shows X as (a), order 2 shows Y as (a)."""
    if not (x_first.ok and y_first.ok):
        return Judgement(None, JUDGE_FAILED)
    one, two = parse_verdict(x_first.content), parse_verdict(y_first.content)
    if one is None or two is None:
        return Judgement(None, JUDGE_UNPARSEABLE, (one, two))
    x_wins = (one == "a", two == "b")
    if all(x_wins):
        return Judgement(WIN, None, (one, two))
    if not any(x_wins):
        return Judgement(LOSS, None, (one, two))
    return Judgement(TIE, TIE_ORDERS_DISAGREE, (one, two))
