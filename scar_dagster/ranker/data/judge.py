"""Quality judges: a 0-9 rating of one response to one instruction.

SCAR rates each training response with GPT-3.5 (mean of helpfulness and correctness, 0-9) and
trains only on pairs whose two qualities are above 5. Offline there is no strong judge, so the
default here is :class:`HeuristicJudge`, a transparent rule list whose every penalty is visible
through ``explain``. :class:`ChatJudge` judges as the paper designs it: helpfulness and
correctness rated separately by a chat model (an OpenAI-compatible endpoint or the local LM),
with our prompts by default or any prompt set (``scar_dagster.llm.prompts``), read by a parse
rule of ``scar_dagster.ranker.data.score_parsing``. :class:`LMJudge` reads a rating from the
local LM's next-token digit logits. A 135M model is a weak judge: see ``data/ranker/README.md``
for how well each agrees with planted good/broken answers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from scar_dagster.ranker.data.score_parsing import MAX_QUALITY, PARSE_RULES, parse_score
from scar_dagster.selection.filters.language import ascii_letter_share

if TYPE_CHECKING:
    from scar_dagster.llm.prompts import PromptSet

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_ALPHA_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")
_DANGLING_END = re.compile(
    r"(?:[,:;(/&\-\u2013\u2014]|\b(?:the|a|an|and|or|but|of|to|in|on|at|for|with|by|from|as|is|"
    r"are|was|were|be|that|which|this|these|your|my|their|its|if|because|than|into|about))\s*$",
    re.IGNORECASE,
)
_REFUSAL = re.compile(
    r"\b(as an ai\b|as a language model|i cannot\b|i can't (help|assist|provide)|"
    r"i'm sorry\b|i am sorry\b|i'm not able to|i am unable to|i'm unable to)",
    re.IGNORECASE,
)
_STOPWORD_TEXT = """
a an the and or but if of to in on at for with by from as is are was were be been being do does
did how what why when where which who whom whose can could should would will shall may might must
i you he she it we they me my your our their this that these those there here not no so than then
too very just about into over under up down out any some all each more most other such only own
same s t don get got have has had use using make best way ways good tips please tell give explain
write need want know one two three four five six seven eight nine ten better easy easiest quick
quickly simple thing things
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@runtime_checkable
class QualityJudge(Protocol):
    """Rates a response to an instruction on 0-9; ``None`` means the rating could not be parsed."""

    name: str

    def score(self, instruction: str, response: str) -> float | None: ...


def score_many(
    judge: QualityJudge, instructions: Sequence[str], responses: Sequence[str]
) -> list[float | None]:
    """Rate many responses, batched when the judge offers ``score_batch``."""
    batch = getattr(judge, "score_batch", None)
    if callable(batch):
        return list(batch(instructions, responses))
    return [judge.score(i, r) for i, r in zip(instructions, responses, strict=True)]


def _words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def repeated_ngram_ratio(text: str, n: int = 3) -> float:
    """Share of word n-grams that repeat an earlier n-gram of the same text (0 = no repetition)."""
    words = _words(text)
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def _content_stems(text: str) -> set[str]:
    words = (w.lower() for w in _ALPHA_WORD.findall(text))
    return {w[:4] for w in words if len(w) > 2 and w not in _STOPWORDS}


def instruction_overlap(instruction: str, response: str) -> float | None:
    """Share of the instruction's content-word stems found in the response (None: too few)."""
    wanted = _content_stems(instruction)
    if len(wanted) < 2:
        return None
    return len(wanted & _content_stems(response)) / len(wanted)


def is_truncated(text: str) -> bool:
    """True when the text stops mid-sentence or inside an unclosed code fence or bold marker.

    Mid-sentence means ending on a comma, colon, dash, opening bracket or a function word
    ("the", "and", "of", ...). A missing final period alone is not enough: terse human answers
    often omit it, and that is style, not quality.
    """
    body = text.rstrip()
    if body.count("```") % 2 == 1 or body.replace("```", "").count("**") % 2 == 1:
        return True
    return bool(_DANGLING_END.search(body))


class HeuristicJudge:
    """Transparent 0-9 judge: start at 9 and subtract one penalty per rule that fires.

    Rules (a keyword set to ``None`` disables its rule):

    - ``empty``: no words at all -> score 0.
    - ``too_short``: fewer than ``min_words`` words -> ``short_penalty``.
    - ``too_long``: more than ``max_words`` words -> ``long_penalty``.
    - ``repetition``: repeated word 3-gram share above ``max_repetition`` -> half of
      ``repetition_penalty``, growing linearly to all of it at twice that share.
    - ``non_english``: ASCII letters below ``min_ascii_share`` of letters (SCAR's 0.7) ->
      ``non_english_penalty``.
    - ``refusal``: "as an ai", "i cannot", "i'm sorry", ... -> ``refusal_penalty``.
    - ``truncated``: ends mid-sentence or in an unclosed code fence (:func:`is_truncated`) ->
      ``truncated_penalty``.
    - ``off_topic``: share of the instruction's content words found in the response below
      ``min_overlap`` -> ``off_topic_penalty``.

    Nothing is rewarded: a plain, complete, on-topic answer gets 9. The defaults keep a
    response with one mild or noisy flaw (truncated, short, little word overlap with the
    instruction) above SCAR's threshold of 5, and send one with a severe flaw (refusal,
    repetition, other language, empty) or two flaws at once to 5 or below.

    >>> HeuristicJudge().score("How do I boil an egg?", "Boil the egg for eight minutes.")
    9.0
    """

    name = "heuristic-v1"

    def __init__(
        self,
        *,
        min_words: int | None = 5,
        short_penalty: float = 3.0,
        max_words: int | None = 600,
        long_penalty: float = 3.0,
        max_repetition: float | None = 0.2,
        repetition_penalty: float = 6.0,
        min_ascii_share: float | None = 0.7,
        non_english_penalty: float = 6.0,
        refusal: bool = True,
        refusal_penalty: float = 5.0,
        truncated: bool = True,
        truncated_penalty: float = 2.0,
        min_overlap: float | None = 0.01,
        off_topic_penalty: float = 3.0,
    ) -> None:
        self.min_words, self.short_penalty = min_words, short_penalty
        self.max_words, self.long_penalty = max_words, long_penalty
        self.max_repetition, self.repetition_penalty = max_repetition, repetition_penalty
        self.min_ascii_share, self.non_english_penalty = min_ascii_share, non_english_penalty
        self.refusal, self.refusal_penalty = refusal, refusal_penalty
        self.truncated, self.truncated_penalty = truncated, truncated_penalty
        self.min_overlap, self.off_topic_penalty = min_overlap, off_topic_penalty

    def explain(self, instruction: str, response: str) -> dict[str, Any]:
        """The measured values, each rule's penalty (0 when it does not fire) and the score."""
        words = _words(response)
        repetition = repeated_ngram_ratio(response)
        share = ascii_letter_share(response)  # SCAR's English test; None: no letters at all
        ascii_share = 1.0 if share is None else share
        overlap = instruction_overlap(instruction, response)
        penalties = {
            "empty": MAX_QUALITY if not words else 0.0,
            "too_short": _if(
                self.min_words is not None and 0 < len(words) < self.min_words,
                self.short_penalty,
            ),
            "too_long": _if(
                self.max_words is not None and len(words) > self.max_words, self.long_penalty
            ),
            "repetition": self._repetition_penalty(repetition),
            "non_english": _if(
                self.min_ascii_share is not None and ascii_share < self.min_ascii_share,
                self.non_english_penalty,
            ),
            "refusal": _if(self.refusal and bool(_REFUSAL.search(response)), self.refusal_penalty),
            "truncated": _if(self.truncated and is_truncated(response), self.truncated_penalty),
            "off_topic": _if(
                self.min_overlap is not None
                and bool(words)
                and overlap is not None
                and overlap < self.min_overlap,
                self.off_topic_penalty,
            ),
        }
        score = round(min(MAX_QUALITY, max(0.0, MAX_QUALITY - sum(penalties.values()))), 4)
        return {
            "n_words": len(words),
            "repeated_3gram_ratio": round(repetition, 4),
            "ascii_letter_share": round(ascii_share, 4),
            "instruction_overlap": None if overlap is None else round(overlap, 4),
            "penalties": penalties,
            "score": score,
        }

    def _repetition_penalty(self, ratio: float) -> float:
        if self.max_repetition is None or ratio <= self.max_repetition:
            return 0.0
        scale = min(1.0, (ratio - self.max_repetition) / self.max_repetition)
        return round(self.repetition_penalty * max(scale, 0.5), 2)

    def score(self, instruction: str, response: str) -> float:
        """The 0-9 score (never ``None``)."""
        return float(self.explain(instruction, response)["score"])


def _if(condition: bool, penalty: float) -> float:
    return float(penalty) if condition else 0.0


_LM_PROMPT = (
    "Rate the helpfulness and correctness of the answer to the question on a scale from 0 "
    "(useless, wrong or off-topic) to 9 (helpful and correct). Answer with a single digit.\n\n"
    "Question: {instruction}\n\nAnswer: {response}"
)
_LM_PREFIX = "Rating: "


def expected_digit(logits: Any, digit_ids: Sequence[int]) -> float:
    """Expected rating under the softmax over the ten digit tokens' logits (always in [0, 9])."""
    import torch

    scores = torch.as_tensor(logits, dtype=torch.float64)[list(digit_ids)]
    probs = torch.softmax(scores, dim=-1)
    value = float((probs * torch.arange(len(digit_ids), dtype=torch.float64)).sum())
    return value if math.isfinite(value) else float("nan")


class LMJudge:
    """Asks a local causal LM for a 0-9 rating and reads it from the next-token digit logits.

    The rating is the expectation over the digits "0".."9" of the softmax of their logits right
    after the prompt (deterministic and always parseable). A tokenizer that does not encode each
    digit as one token gives ``None`` for every rating (the caller drops such rows as
    ``quadruple_unrated``).
    """

    def __init__(
        self, tokenizer: Any, model: Any, *, batch_size: int = 8, max_response_tokens: int = 384
    ) -> None:
        self.tokenizer, self.model = tokenizer, model
        self.batch_size, self.max_response_tokens = batch_size, max_response_tokens
        model_name = Path(str(getattr(model.config, "_name_or_path", "") or "local")).name
        self.name = f"lm-digit-logits:{model_name}"
        self.digit_ids = self._digit_ids()

    def _digit_ids(self) -> list[int] | None:
        ids = [self.tokenizer.encode(str(d), add_special_tokens=False) for d in range(10)]
        return [i[0] for i in ids] if all(len(i) == 1 for i in ids) else None

    def _prompt(self, instruction: str, response: str) -> str:
        cut = self.tokenizer.encode(response, add_special_tokens=False)[: self.max_response_tokens]
        text = _LM_PROMPT.format(instruction=instruction, response=self.tokenizer.decode(cut))
        messages = [{"role": "user", "content": text}]
        rendered = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        )
        return rendered + _LM_PREFIX

    def score(self, instruction: str, response: str) -> float | None:
        """One rating in [0, 9], or ``None`` when the digits are not single tokens."""
        return self.score_batch([instruction], [response])[0]

    def score_batch(
        self, instructions: Sequence[str], responses: Sequence[str]
    ) -> list[float | None]:
        """Ratings for many pairs, batched with left padding."""
        import torch

        from scar_dagster.llm.local import left_padded_batches

        if self.digit_ids is None:
            return [None] * len(instructions)
        prompts = [self._prompt(i, r) for i, r in zip(instructions, responses, strict=True)]
        out: list[float | None] = [None] * len(prompts)
        for idx, enc in left_padded_batches(self.tokenizer, prompts, self.batch_size):
            with torch.inference_mode():
                enc = {name: tensor.to(self.model.device) for name, tensor in enc.items()}
                logits = self.model(**enc).logits[:, -1, :].float().cpu()
            for row, k in enumerate(idx):
                out[k] = expected_digit(logits[row], self.digit_ids)
        return out


# --- judging with a chat model -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rating:
    """One response's ratings; ``quality`` is their mean, ``None`` with a ``reason`` code."""

    quality: float | None
    helpfulness: float | None = None
    correctness: float | None = None
    reason: str | None = None
    detail: str = ""


UNPARSEABLE_POLICIES: tuple[str, ...] = ("exclude", "zero")


class ChatJudge:
    """Rates helpfulness and correctness separately (0-9) with a chat model; quality = mean.

    ``chat`` is any :class:`~scar_dagster.llm.types.ChatBackend` (an endpoint or the local LM);
    ``prompts`` a :class:`~scar_dagster.llm.prompts.PromptSet` (default: ours, after the
    paper's design); ``parse`` a rule of ``score_parsing`` (``last_score``, or the SCAR
    toolkit's ``most_common_number``); ``max_tokens`` the cap of one rating (the toolkit asks
    for up to 1024). A failed request is ``quadruple_judge_failed``. A reply without a usable
    score is ``quadruple_judge_unparseable`` under ``unparseable="exclude"`` (the default:
    ``quality=None``, the quadruple is dropped), and scores 0 under ``"zero"``, as the
    toolkit's scorer does; :attr:`zeroed` counts those. Under ``last_score`` a reply cut at
    ``max_tokens`` before its ``Score:`` line is unparseable; ``most_common_number`` reads a
    cut reply as it is, as the toolkit does. A failed request is never scored 0 (the toolkit
    does): it is asked again on a rerun and counts toward ``max_failure_share``.
    """

    def __init__(
        self,
        chat: Any,
        *,
        max_tokens: int = 256,
        prompts: PromptSet | None = None,
        parse: str = "last_score",
        unparseable: str = "exclude",
    ) -> None:
        from scar_dagster.llm.prompts import DEFAULT_PROMPTS

        if parse not in PARSE_RULES:
            raise ValueError(f"judge parse rule must be one of {PARSE_RULES}, got {parse!r}")
        if unparseable not in UNPARSEABLE_POLICIES:
            raise ValueError(
                f"judge unparseable policy must be one of {UNPARSEABLE_POLICIES}, "
                f"got {unparseable!r}"
            )
        self.chat, self.max_tokens = chat, max_tokens
        self.prompts = prompts or DEFAULT_PROMPTS
        self.parse, self.unparseable = parse, unparseable
        self.zeroed = 0
        options = [
            f"prompts={self.prompts.fingerprint}" if self.prompts.label != "default" else "",
            f"parse={parse}" if parse != "last_score" else "",
            f"unparseable={unparseable}" if unparseable != "exclude" else "",
        ]
        chosen = ",".join(o for o in options if o)
        self.name = f"llm-judge:{chat.name}" + (f"[{chosen}]" if chosen else "")

    def requests(self, instruction: str, response: str) -> list[Any]:
        from scar_dagster.llm.prompts import JUDGE_ASPECTS
        from scar_dagster.llm.types import ChatRequest

        return [
            ChatRequest.of(
                self.prompts.messages(aspect, instruction=instruction, response=response),
                self.max_tokens,
            )
            for aspect in JUDGE_ASPECTS
        ]

    def rate_batch(
        self,
        instructions: Sequence[str],
        responses: Sequence[str],
        progress: Any | None = None,
    ) -> list[Rating]:
        """One :class:`Rating` per response, in input order."""
        pairs = list(zip(instructions, responses, strict=True))
        asked = [req for i, r in pairs for req in self.requests(i, r)]
        replies = self.chat.complete_many(asked, progress=progress)
        return [self._rating(replies[2 * n], replies[2 * n + 1]) for n in range(len(pairs))]

    def score_batch(
        self, instructions: Sequence[str], responses: Sequence[str]
    ) -> list[float | None]:
        return [r.quality for r in self.rate_batch(instructions, responses)]

    def score(self, instruction: str, response: str) -> float | None:
        return self.score_batch([instruction], [response])[0]

    def _aspect_score(self, reply: Any, aspect: str) -> tuple[float | None, str | None, str]:
        """``(score, reason, detail)`` of one aspect's reply."""
        from scar_dagster.schema import QUADRUPLE_JUDGE_FAILED, QUADRUPLE_JUDGE_UNPARSEABLE

        if not reply.ok:
            return None, QUADRUPLE_JUDGE_FAILED, f"{aspect}: {reply.error}: {reply.detail}"
        value, how = parse_score(reply.content, self.parse, aspect)
        if value is not None and reply.truncated and how == "last_number":
            value, how = None, "reply cut at max_tokens before its Score line"
        if value is not None:
            return value, None, ""
        excerpt = (reply.content or "")[-120:].replace("\n", " ")
        detail = f"{aspect}: {how}: ...{excerpt!r}"
        if self.unparseable == "zero":
            self.zeroed += 1
            return 0.0, None, detail + " (scored 0: unparseable=zero)"
        return None, QUADRUPLE_JUDGE_UNPARSEABLE, detail

    def _rating(self, help_reply: Any, correct_reply: Any) -> Rating:
        helpful, reason_h, detail_h = self._aspect_score(help_reply, "helpfulness")
        correct, reason_c, detail_c = self._aspect_score(correct_reply, "correctness")
        detail = "; ".join(d for d in (detail_h, detail_c) if d)
        if helpful is None or correct is None:
            # A failed request outranks an unparseable reply: it counts toward max_failure_share.
            reasons = [r for r in (reason_h, reason_c) if r]
            reason = min(reasons, key=lambda r: not r.endswith("_failed"))
            return Rating(None, helpful, correct, reason, detail)
        return Rating(round((helpful + correct) / 2.0, 4), helpful, correct, detail=detail)


def rate_many(
    judge: QualityJudge,
    instructions: Sequence[str],
    responses: Sequence[str],
    progress: Any | None = None,
) -> list[Rating]:
    """:class:`Rating`s from any judge (``None`` scores of simple judges: ``quadruple_unrated``)."""
    rate = getattr(judge, "rate_batch", None)
    if callable(rate):
        return list(rate(instructions, responses, progress=progress))
    ratings = []
    for value in score_many(judge, instructions, responses):
        if value is None:
            ratings.append(Rating(None, reason="quadruple_unrated", detail=f"{judge.name}"))
        else:
            ratings.append(Rating(float(value)))
    if progress is not None:
        progress.advance(len(ratings))
    return ratings


def judge_agreement(
    judge: QualityJudge, good: Sequence[tuple[str, str]], broken: Sequence[tuple[str, str]]
) -> dict[str, float | int]:
    """How well a judge separates good from broken answers (``(instruction, response)`` pairs).

    Returns the mean score of each group, the pairwise accuracy (share of good x broken pairs
    where the good one scores higher; ties count one half) and the number of unrated answers.
    """
    g = score_many(judge, [i for i, _ in good], [r for _, r in good])
    b = score_many(judge, [i for i, _ in broken], [r for _, r in broken])
    gs, bs = [x for x in g if x is not None], [x for x in b if x is not None]
    wins = sum((x > y) + 0.5 * (x == y) for x in gs for y in bs)
    return {
        "mean_good": sum(gs) / len(gs) if gs else float("nan"),
        "mean_broken": sum(bs) / len(bs) if bs else float("nan"),
        "pairwise_accuracy": wins / (len(gs) * len(bs)) if gs and bs else float("nan"),
        "unrated": (len(g) - len(gs)) + (len(b) - len(bs)),
    }
