"""Ranker training quadruples: loaded and validated, or generated with the local instruct LM.

A quadruple (SCAR, arXiv 2406.10882, section 3) holds an instruction, the human response, a
*referenced* response (an LLM rewrite of the human one keeping its content) and a *direct*
response (the LLM's own answer), each with a 0-9 quality. Qualities come from the input when
present, else from a :class:`~scar_dagster.ranker.judge.QualityJudge`. Every rejected row carries
a ``quadruple_*`` reason code; nothing is silently fixed.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from scar_dagster.ranker.judge import HeuristicJudge, QualityJudge, score_many
from scar_dagster.schema import Dropped

if TYPE_CHECKING:
    import pandas as pd

    from scar_dagster.ranker.quadruple import Quadruple

TEXT_FIELDS: tuple[str, ...] = ("instruction", "human", "referenced", "direct")
RESPONSE_KINDS: tuple[str, ...] = ("human", "referenced", "direct")
QUALITY_FIELDS: tuple[str, ...] = tuple(f"quality_{k}" for k in RESPONSE_KINDS)
RECORD_FIELDS: tuple[str, ...] = ("id", *TEXT_FIELDS, *QUALITY_FIELDS, "generator", "judge")
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

REFERENCED_PROMPT = (
    "Rewrite the answer below in your own words. Keep every fact it states and add no new "
    "information.\n\nQuestion: {instruction}\n\nAnswer: {human}"
)
_SENTENCE_END = re.compile(r"""(?<=[^\W\d_])[.!?]["')\]*]*(?=\s|$)""")


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


def load_quadruples(source: str | Path | IO[Any]) -> tuple[list[dict[str, Any]], list[Dropped]]:
    """Read quadruples from JSONL; return the valid rows and one ``Dropped`` per rejected line.

    Required string fields: ``instruction``, ``human``, ``referenced``, ``direct`` (non-empty).
    Optional ``quality_human``, ``quality_referenced``, ``quality_direct``: numbers in [0, 9]
    (null counts as absent). Other fields (``id``, ``generator``, ...) are kept as they are.
    Blank lines are skipped. ``source`` is a path or an open text or binary stream.
    """
    name, lines = _lines(source)
    kept: list[dict[str, Any]] = []
    rejected: list[Dropped] = []
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError as error:
            rejected.append(Dropped(SOURCE, name, number, QUADRUPLE_INVALID_ENCODING, str(error)))
            continue
        if not line.strip():
            continue
        excerpt = line.strip()[:200]
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as error:
            detail = f"invalid JSON: {error.msg} at column {error.colno}"
            rejected.append(
                Dropped(SOURCE, name, number, QUADRUPLE_MALFORMED_JSON, detail, excerpt=excerpt)
            )
            continue
        problem = _check_row(obj)
        if problem is not None:
            rejected.append(Dropped(SOURCE, name, number, *problem, excerpt=excerpt))
        else:
            kept.append(_clean(obj))
    return kept, rejected


def rate_quadruples(
    rows: Sequence[Mapping[str, Any]], judge: QualityJudge
) -> tuple[list[dict[str, Any]], list[Dropped]]:
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
        Dropped(
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
    """Convert rated rows into the training record of ``scar_dagster.ranker.quadruple``."""
    from scar_dagster.ranker.quadruple import Quadruple

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


def _chat(tokenizer: Any, content: str) -> str:
    messages = [{"role": "user", "content": content}]
    return tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)


def trim_to_sentence(text: str) -> str:
    """Cut text stopped by the token cap back to its last complete sentence (code left as is)."""
    if "```" in text:
        return text
    ends = list(_SENTENCE_END.finditer(text))
    return text[: ends[-1].end()].rstrip() if ends else text


def generate_texts(
    tokenizer: Any,
    model: Any,
    prompts: Sequence[str],
    *,
    max_new_tokens: int = 96,
    batch_size: int = 8,
    seed: int = 0,
    repetition_penalty: float = 1.0,
) -> list[tuple[str, bool]]:
    """Greedy chat completions ``(text, hit_token_cap)`` in input order, batched, left-padded.

    Prompts are user turns; batches group prompts of similar token length.
    """
    import torch

    if batch_size < 1 or max_new_tokens < 1:
        raise ValueError(
            f"need batch_size >= 1 and max_new_tokens >= 1, got {batch_size}, {max_new_tokens}"
        )
    torch.manual_seed(seed)
    rendered = [_chat(tokenizer, p) for p in prompts]
    lengths = [len(tokenizer.encode(p, add_special_tokens=False)) for p in rendered]
    order = sorted(range(len(rendered)), key=lambda i: (lengths[i], i))
    eos = tokenizer.eos_token_id
    if eos is None:
        eos = getattr(model.generation_config, "eos_token_id", None)
    stops = set(eos if isinstance(eos, list) else [] if eos is None else [eos])
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(stops, default=0)
    out: list[tuple[str, bool]] = [("", False)] * len(rendered)
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            enc = tokenizer(
                [rendered[i] for i in idx],
                return_tensors="pt",
                padding=True,
                add_special_tokens=False,
            )
            with torch.inference_mode():
                ids = model.generate(
                    input_ids=enc["input_ids"].to(model.device),
                    attention_mask=enc["attention_mask"].to(model.device),
                    do_sample=False,
                    max_new_tokens=max_new_tokens,
                    repetition_penalty=repetition_penalty,
                    pad_token_id=pad,
                    eos_token_id=eos,
                )
            new = ids[:, enc["input_ids"].shape[1] :].cpu()
            for row, i in enumerate(idx):
                hit_cap = not stops.intersection(new[row].tolist())
                text = tokenizer.decode(new[row], skip_special_tokens=True).strip()
                out[i] = (text, hit_cap)
    finally:
        tokenizer.padding_side = side
    return out


def _as_pair(item: Mapping[str, Any] | tuple[str, str]) -> dict[str, Any]:
    """``{instruction, human, ...}`` from a mapping (other keys such as ``id`` kept) or a tuple."""
    if isinstance(item, Mapping):
        pair = {k: v for k, v in item.items() if k != "response"}
        pair["human"] = item["response"] if "response" in item else item["human"]
        return pair
    instruction, human = item
    return {"instruction": instruction, "human": human}


def generate_quadruples(
    pairs: Iterable[Mapping[str, Any] | tuple[str, str]],
    tokenizer: Any,
    model: Any,
    *,
    max_new_tokens: int = 96,
    seed: int = 0,
    judge: QualityJudge | None = None,
    batch_size: int = 8,
    trim_truncated: bool = True,
    generator: str | None = None,
) -> list[dict[str, Any]]:
    """Quadruples from (instruction, human response) pairs with the local LM, rated by ``judge``.

    ``referenced`` rewrites the human answer (``REFERENCED_PROMPT``), ``direct`` answers the
    instruction; both greedy, at most ``max_new_tokens`` tokens, special tokens stripped, and
    (``trim_truncated``) cut back to the last full sentence when the cap stopped them; the
    ``*_truncated`` fields record that. Pairs are mappings with ``instruction`` and ``response``
    (or ``human``) and optional extra keys such as ``id`` (copied to the record), or
    ``(instruction, response)`` tuples. ``judge``
    defaults to :class:`HeuristicJudge`; a quality it cannot rate is ``None`` (drop those rows
    with :func:`rate_quadruples`, reason ``quadruple_unrated``).
    """
    judge = judge or HeuristicJudge()
    base = [_as_pair(p) for p in pairs]
    prompts = [REFERENCED_PROMPT.format(**p) for p in base] + [p["instruction"] for p in base]
    texts = generate_texts(
        tokenizer, model, prompts, max_new_tokens=max_new_tokens, batch_size=batch_size, seed=seed
    )
    name = generator or getattr(model.config, "_name_or_path", "") or type(model).__name__
    records = []
    for n, pair in enumerate(base):
        record = dict(pair)
        for kind, (text, hit_cap) in (("referenced", texts[n]), ("direct", texts[len(base) + n])):
            record[kind] = trim_to_sentence(text) if trim_truncated and hit_cap else text
            record[f"{kind}_truncated"] = hit_cap
        records.append(record)
    kinds = [(n, kind) for n in range(len(records)) for kind in RESPONSE_KINDS]
    scores = score_many(
        judge, [records[n]["instruction"] for n, _ in kinds], [records[n][k] for n, k in kinds]
    )
    for (n, kind), value in zip(kinds, scores, strict=True):
        records[n][f"quality_{kind}"] = None if value is None else round(float(value), 4)
    for record in records:
        record.update(generator=f"{name} greedy max_new_tokens={max_new_tokens}", judge=judge.name)
    return records
