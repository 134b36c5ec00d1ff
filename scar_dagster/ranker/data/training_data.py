"""Ranker training quadruples: loaded and validated, or generated with a chat backend.

A quadruple (SCAR, arXiv 2406.10882, section 3) holds an instruction, the human response, a
*referenced* response (the LLM's answer given the human one as a reference, keeping its
content) and a *direct* response (the LLM's own answer), each with a 0-9 quality. The
generator is any :class:`~scar_dagster.llm.types.ChatBackend`: an OpenAI-compatible endpoint
(``scar_dagster.llm.client``) or the local instruct LM (``scar_dagster.llm.local``). Qualities
come from the input when present, else from a :class:`~scar_dagster.ranker.data.judge.QualityJudge`.
Every quarantined row carries a ``quadruple_*`` reason code; nothing is silently fixed.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from scar_dagster.llm.types import ChatBackend, ChatRequest, ChatResult
from scar_dagster.ranker.data.judge import (
    HeuristicJudge,
    QualityJudge,
    Rating,
    rate_many,
    score_many,
)
from scar_dagster.schema import (
    QUADRUPLE_GENERATION_EMPTY,
    QUADRUPLE_GENERATION_FAILED,
    QUADRUPLE_GENERATION_TRUNCATED,
    QUADRUPLE_JUDGE_FAILED,
    Quarantined,
)

if TYPE_CHECKING:
    import pandas as pd

    from scar_dagster.llm.prompts import PromptSet
    from scar_dagster.ranker.data.quadruple import Quadruple

TEXT_FIELDS: tuple[str, ...] = ("instruction", "human", "referenced", "direct")
RESPONSE_KINDS: tuple[str, ...] = ("human", "referenced", "direct")
QUALITY_FIELDS: tuple[str, ...] = tuple(f"quality_{k}" for k in RESPONSE_KINDS)
RECORD_FIELDS: tuple[str, ...] = (
    "id",
    *TEXT_FIELDS,
    *QUALITY_FIELDS,
    "generator",
    "judge",
    "prompts",
)
QUALITY_RANGE = (0.0, 9.0)
SOURCE = "quadruples"

QUADRUPLE_MALFORMED_JSON = "quadruple_malformed_json"
QUADRUPLE_INVALID_ENCODING = "quadruple_invalid_encoding"
QUADRUPLE_NOT_OBJECT = "quadruple_not_object"
QUADRUPLE_MISSING_FIELD = "quadruple_missing_field"
QUADRUPLE_NON_STRING = "quadruple_non_string"
QUADRUPLE_EMPTY_TEXT = "quadruple_empty_text"
QUADRUPLE_QUALITY_NON_NUMERIC = "quadruple_quality_non_numeric"
QUADRUPLE_QUALITY_OUT_OF_RANGE = "quadruple_quality_out_of_range"
QUADRUPLE_UNRATED = "quadruple_unrated"


# --- loading and validation -------------------------------------------------------------------


def _lines(source: str | Path | IO[Any]) -> tuple[str, Iterator[str | bytes]]:
    if isinstance(source, str | Path):
        return Path(source).name, iter(Path(source).read_bytes().splitlines())
    return getattr(source, "name", "<stream>"), iter(source)


def _check_row(obj: Any) -> tuple[str, str] | None:
    """The first problem of a parsed row as ``(reason, detail)``, or ``None`` when valid."""
    if not isinstance(obj, dict):
        return QUADRUPLE_NOT_OBJECT, f"expected a JSON object, got {type(obj).__name__}"
    for field in TEXT_FIELDS:
        value = obj.get(field)
        if value is None:
            return QUADRUPLE_MISSING_FIELD, f"field {field!r} is missing or null"
        if not isinstance(value, str):
            return QUADRUPLE_NON_STRING, f"field {field!r} is {type(value).__name__}, not a string"
        if not value.strip():
            return QUADRUPLE_EMPTY_TEXT, f"field {field!r} is empty"
    for field in QUALITY_FIELDS:
        value = obj.get(field)
        if value is None:
            continue
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            return QUADRUPLE_QUALITY_NON_NUMERIC, f"{field}={value!r} is not a finite number"
        low, high = QUALITY_RANGE
        if not low <= value <= high:
            return QUADRUPLE_QUALITY_OUT_OF_RANGE, f"{field}={value!r} outside [{low:g}, {high:g}]"
    return None


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    """The row with qualities as floats and null qualities removed (they count as absent)."""
    row = {k: v for k, v in obj.items() if not (k in QUALITY_FIELDS and v is None)}
    for field in QUALITY_FIELDS:
        if field in row:
            row[field] = float(row[field])
    return row


def load_quadruples(source: str | Path | IO[Any]) -> tuple[list[dict[str, Any]], list[Quarantined]]:
    """Read quadruples from JSONL: the valid rows and one ``Quarantined`` per quarantined line.

    Required string fields: ``instruction``, ``human``, ``referenced``, ``direct`` (non-empty).
    Optional ``quality_human``, ``quality_referenced``, ``quality_direct``: numbers in [0, 9]
    (null counts as absent). Other fields (``id``, ``generator``, ...) are kept as they are.
    Blank lines are skipped. ``source`` is a path or an open text or binary stream.
    """
    name, lines = _lines(source)
    kept: list[dict[str, Any]] = []
    quarantined: list[Quarantined] = []
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as error:
            quarantined.append(
                Quarantined(SOURCE, name, number, QUADRUPLE_INVALID_ENCODING, str(error))
            )
            continue
        if not line.strip():
            continue
        excerpt = line.strip()[:200]
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            detail = f"invalid JSON: {error.msg} at column {error.colno}"
            quarantined.append(
                Quarantined(SOURCE, name, number, QUADRUPLE_MALFORMED_JSON, detail, excerpt=excerpt)
            )
            continue
        problem = _check_row(obj)
        if problem is not None:
            quarantined.append(Quarantined(SOURCE, name, number, *problem, excerpt=excerpt))
        else:
            kept.append(_clean(obj))
    return kept, quarantined


def rate_quadruples(
    rows: Sequence[Mapping[str, Any]], judge: QualityJudge
) -> tuple[list[dict[str, Any]], list[Quarantined]]:
    """Fill absent qualities with ``judge``; rows it cannot rate drop as ``quadruple_unrated``.

    Qualities given in the input are kept as they are. ``origin_line`` of a dropped row is its
    1-based position in ``rows``.
    """
    out = [dict(row) for row in rows]
    todo = [
        (n, kind)
        for n, row in enumerate(out)
        for kind in RESPONSE_KINDS
        if row.get(f"quality_{kind}") is None
    ]
    scores = score_many(
        judge, [out[n]["instruction"] for n, _ in todo], [out[n][kind] for n, kind in todo]
    )
    unrated: dict[int, list[str]] = {}
    for (n, kind), value in zip(todo, scores, strict=True):
        out[n][f"quality_{kind}"] = None if value is None else float(value)
        out[n].setdefault("judge", judge.name)
        if value is None:
            unrated.setdefault(n, []).append(kind)
    dropped = [
        Quarantined(
            SOURCE,
            "<rated>",
            n + 1,
            QUADRUPLE_UNRATED,
            f"judge {judge.name} could not rate: {', '.join(kinds)}",
            excerpt=str(out[n].get("id") or out[n]["instruction"])[:200],
        )
        for n, kinds in sorted(unrated.items())
    ]
    return [row for n, row in enumerate(out) if n not in unrated], dropped


def as_quadruples(rows: Iterable[Mapping[str, Any]]) -> list[Quadruple]:
    """Convert rated rows into the training record of ``scar_dagster.ranker.data.quadruple``."""
    from scar_dagster.ranker.data.quadruple import Quadruple

    out = []
    for row in rows:
        missing = [f for f in QUALITY_FIELDS if row.get(f) is None]
        if missing:
            raise ValueError(f"row {row.get('id', row['instruction'][:40])!r} lacks {missing}")
        out.append(Quadruple(**{f: row[f] for f in (*TEXT_FIELDS, *QUALITY_FIELDS)}))
    return out


def write_quadruples(rows: Iterable[Mapping[str, Any]], path: str | Path) -> int:
    """Write rows as JSONL (known fields first, in a fixed order); return the row count."""
    count = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for row in rows:
            ordered = {k: row[k] for k in RECORD_FIELDS if k in row}
            ordered.update({k: v for k, v in row.items() if k not in ordered})
            out.write(json.dumps(ordered, ensure_ascii=False) + "\n")
            count += 1
    return count


# --- sampling ---------------------------------------------------------------------------------


def sample_pairs_for_training(raw_pairs: pd.DataFrame, n: int, seed: int) -> pd.DataFrame:
    """``n`` rows chosen by ``sha256(seed, id)``: the same set whatever the frame's row order."""
    keys = [
        (hashlib.sha256(f"{seed}\x1f{pair_id}".encode()).hexdigest(), str(pair_id))
        for pair_id in raw_pairs["id"]
    ]
    order = sorted(range(len(keys)), key=keys.__getitem__)[: max(n, 0)]
    return raw_pairs.iloc[order].reset_index(drop=True)


# --- generation -------------------------------------------------------------------------------


def _as_pair(item: Mapping[str, Any] | tuple[str, str]) -> dict[str, Any]:
    """``{instruction, human, ...}`` from a mapping (other keys such as ``id`` kept) or a tuple."""
    if isinstance(item, Mapping):
        pair = {k: v for k, v in item.items() if k != "response"}
        pair["human"] = item["response"] if "response" in item else item["human"]
        return pair
    instruction, human = item
    return {"instruction": instruction, "human": human}


@dataclass
class QuadrupleBuild:
    """What :func:`build_quadruples` made: kept rows, dropped pairs with reasons, and counts."""

    rows: list[dict[str, Any]]
    dropped: list[Quarantined]
    pairs: int
    generator: str
    judge: str

    @property
    def failed(self) -> int:
        """Pairs lost to requests that failed after every retry (generation or judging)."""
        codes = (QUADRUPLE_GENERATION_FAILED, QUADRUPLE_JUDGE_FAILED)
        return sum(d.reason in codes for d in self.dropped)

    @property
    def failure_share(self) -> float:
        return self.failed / self.pairs if self.pairs else 0.0

    def reasons(self) -> dict[str, int]:
        return dict(sorted(Counter(d.reason for d in self.dropped).items()))


class TooManyFailures(RuntimeError):
    """More requests failed than ``max_failure_share`` allows."""


def check_failure_share(build: QuadrupleBuild, max_failure_share: float) -> None:
    """Raise :class:`TooManyFailures` when failed pairs exceed ``max_failure_share`` of all."""
    if build.failure_share > max_failure_share:
        raise TooManyFailures(
            f"{build.failed} of {build.pairs} pairs ({build.failure_share:.1%}) lost to failed "
            f"requests, above max_failure_share={max_failure_share:g}; replies received so far "
            "are cached, so a rerun asks only the missing ones"
        )


def _drop(n: int, pair: Mapping[str, Any], reason: str, detail: str) -> Quarantined:
    excerpt = str(pair.get("id") or pair["instruction"])[:200]
    return Quarantined(SOURCE, "<generated>", n + 1, reason, detail, excerpt=excerpt)


def _generation_problem(kind: str, reply: ChatResult) -> tuple[str, str] | None:
    if not reply.ok:
        return QUADRUPLE_GENERATION_FAILED, f"{kind}: {reply.error}: {reply.detail}"
    if reply.truncated:
        return QUADRUPLE_GENERATION_TRUNCATED, (
            f"{kind}: stopped at the token cap after {reply.completion_tokens} tokens"
        )
    if not (reply.content or "").strip():
        return QUADRUPLE_GENERATION_EMPTY, f"{kind}: empty reply"
    return None


def build_quadruples(
    pairs: Iterable[Mapping[str, Any] | tuple[str, str]],
    generator: ChatBackend,
    judge: QualityJudge | None = None,
    *,
    prompts: PromptSet | None = None,
    max_tokens: int | None = None,
    log: Any | None = None,
) -> QuadrupleBuild:
    """Quadruples from (instruction, human response) pairs, after SCAR's data design.

    ``direct`` = ``generator``'s answer to the instruction; ``referenced`` = its answer given
    the human response as a reference, with the templates of ``prompts`` (default: ours,
    ``scar_dagster.llm.prompts.DEFAULT_PROMPTS``); ``max_tokens`` caps each answer (default:
    the backend's cap). A pair whose generation failed, stopped at the token cap or came back
    empty is dropped with a ``quadruple_generation_*`` reason (nothing is trimmed); the rest
    are rated by ``judge`` (default :class:`HeuristicJudge`), and a pair with any unrated
    response is dropped with the judge's reason. Pairs are mappings with ``instruction`` and
    ``response`` (or ``human``) and optional keys such as ``id`` (copied), or
    ``(instruction, response)`` tuples. Each row records its ``generator``, ``judge`` and
    ``prompts`` (``PromptSet.label``). Progress and ETA of both steps go to ``log`` (any
    logger) through :class:`~scar_dagster.progress.Progress`.
    """
    from scar_dagster.llm.prompts import DEFAULT_PROMPTS
    from scar_dagster.progress import Progress

    prompts = prompts or DEFAULT_PROMPTS
    judge = judge or HeuristicJudge()
    base = [_as_pair(p) for p in pairs]
    asked = [
        ChatRequest.of(
            prompts.messages("referenced", instruction=p["instruction"], human=p["human"]),
            max_tokens,
        )
        for p in base
    ]
    asked += [
        ChatRequest.of(prompts.messages("direct", instruction=p["instruction"]), max_tokens)
        for p in base
    ]
    progress = Progress("training data: generation", len(asked), log, unit="replies")
    replies = generator.complete_many(asked, progress=progress)
    progress.done()
    dropped: list[Quarantined] = []
    generated: list[tuple[int, dict[str, Any]]] = []
    for n, pair in enumerate(base):
        record = dict(pair)
        problems = []
        for kind, reply in (("referenced", replies[n]), ("direct", replies[len(base) + n])):
            record[kind] = (reply.content or "").strip()
            record[f"{kind}_truncated"] = reply.truncated
            problem = _generation_problem(kind, reply)
            if problem is not None:
                problems.append(problem)
        if problems:
            failed = [p for p in problems if p[0] == QUADRUPLE_GENERATION_FAILED]
            reason = (failed or problems)[0][0]
            dropped.append(_drop(n, pair, reason, "; ".join(d for _, d in problems)))
        else:
            generated.append((n, record))
    todo = [(n, record, kind) for n, record in generated for kind in RESPONSE_KINDS]
    progress = Progress("training data: judging", len(todo), log, unit="responses")
    ratings = rate_many(
        judge, [r["instruction"] for _, r, _ in todo], [r[k] for _, r, k in todo], progress
    )
    progress.done()
    by_pair: dict[int, list[tuple[str, Rating]]] = {}
    for (n, _, kind), rating in zip(todo, ratings, strict=True):
        by_pair.setdefault(n, []).append((kind, rating))
    rows = []
    for n, record in generated:
        unrated = [(kind, r) for kind, r in by_pair[n] if r.quality is None]
        if unrated:
            reasons = [r.reason or QUADRUPLE_UNRATED for _, r in unrated]
            reason = next((r for r in reasons if r.endswith("_failed")), reasons[0])
            detail = "; ".join(f"{kind}: {r.detail}" for kind, r in unrated)
            dropped.append(_drop(n, record, reason, detail))
            continue
        for kind, rating in by_pair[n]:
            record[f"quality_{kind}"] = round(float(rating.quality), 4)
            if rating.helpfulness is not None:
                record[f"helpfulness_{kind}"] = rating.helpfulness
                record[f"correctness_{kind}"] = rating.correctness
        record.update(generator=generator.name, judge=judge.name, prompts=prompts.label)
        rows.append(record)
    dropped.sort(key=lambda d: d.origin_line)
    return QuadrupleBuild(rows, dropped, len(base), generator.name, judge.name)
