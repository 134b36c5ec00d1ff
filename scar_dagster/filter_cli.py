"""``scar-dagster filter`` and ``scar-dagster dedup``: the selection's one path over one file.

filter, in the SCAR toolkit's order (its ``examples/filter_pipeline.py``): exact dedup ->
English -> near dedup -> rank with a StyleRanker -> cut by ``--topk``/``--ratio``/``--threshold``;
dedup: the two dedup steps alone, the kept rows in input order. Both build the pool of
``selection.pool`` and run ``selection.decisions`` (``filter_pool``, ``decide``): the filters
of ``selection/filters`` and the cutoff of ``selection/cutoff.py``, as ``selected_subset``
does. With ``dedup_keep="first"`` (``--dedup-keep first``, ``--compat reference``) the
filters read no score, so only the pairs they keep are scored, as the toolkit does.

``--compat reference`` reads the texts as the toolkit does (the instruction and answer fields
as they are: no whitespace normalisation, an Alpaca ``input`` left out) and selects with
``SelectionParams(compat="reference")``, scoring in float32 unless ``--dtype`` says otherwise.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from scar_dagster import schema
from scar_dagster.cli_options import cutoff_options, ranker_options, stderr_logger

OUTPUT_FORMATS = ("jsonl", "alpaca", "sharegpt")
# The toolkit's steps in its order: (reason of the rows a step drops, what the step is called).
STEPS = (
    (schema.DEDUP_EXACT, "exact dedup"),
    (schema.LANGUAGE_NON_ENGLISH, "English filter"),
    (schema.DEDUP_NEAR, "near dedup"),
)


def _logger() -> logging.Logger:
    return stderr_logger()


# --- reading -----------------------------------------------------------------------------------


def read_pairs(path: Path, *, raw: bool) -> tuple[pd.DataFrame, dict[str, int]]:
    """The pairs of any file the ingest reads as a frame (``id, source, instruction, response,
    origin_file, origin_line``) and the rows not read, by reason. ``raw``: the texts as the
    SCAR toolkit reads them (``raw_pair``); else normalised as ``raw_pairs`` stores them."""
    from scar_dagster.ingest.errors import RecordQuarantined
    from scar_dagster.ingest.normalize import normalize_record
    from scar_dagster.ingest.readers import read_records

    rows: list[dict[str, Any]] = []
    quarantined: Counter[str] = Counter()
    with path.open("rb") as stream:
        for record in read_records(path.name, stream):
            if record.reason is not None:
                quarantined[record.reason] += 1
                continue
            where = {"source": path.stem, "origin_file": path.name, "origin_line": record.line}
            try:
                if raw:
                    rows.append({**raw_pair(record.payload), **where})
                else:
                    pair = normalize_record(record.payload, **where)
                    rows.append({"id": pair.id, **where, "instruction": pair.instruction})
                    rows[-1]["response"] = pair.response
            except RecordQuarantined as error:
                quarantined[error.reason] += 1
    columns = ["id", "source", "instruction", "response", "origin_file", "origin_line"]
    frame = pd.DataFrame(rows, columns=columns).astype(
        {c: "str" for c in columns[:-1]} | {"origin_line": "int64"}
    )
    return frame, dict(sorted(quarantined.items()))


def raw_pair(record: dict[str, Any]) -> dict[str, str]:
    """``id, instruction, response`` of a record as the toolkit reads it: the layout's
    instruction and answer as they are (an Alpaca ``input`` or Dolly ``context`` left out); a
    conversation's first answer and the user turn before it. The id hashes these texts."""
    from scar_dagster.ingest.canonical import pair_id
    from scar_dagster.ingest.conversations import conversation_pairs
    from scar_dagster.ingest.layouts import CONVERSATION_LAYOUTS, detect_layout, field_text

    layout = detect_layout(record)
    if isinstance(layout, str):
        field = CONVERSATION_LAYOUTS[layout]
        first = conversation_pairs(record[field], field).pairs[0]
        if isinstance(first, Exception):
            raise first
        instruction, response = first.instruction, first.response
    else:
        instruction = field_text(record, layout.instruction)
        response = field_text(record, layout.response)
    return {"id": pair_id(instruction, response), "instruction": instruction, "response": response}


# --- the pool ----------------------------------------------------------------------------------


@dataclass
class FilePool:
    """A file's pairs as a selection pool: the pool (sorted by id, scores to be set), the
    texts' lookup, and the later copies of a repeated id (exact duplicates of the first)."""

    pairs: pd.DataFrame
    pool: pd.DataFrame
    copies: pd.DataFrame
    lookup: Any

    @classmethod
    def of(cls, pairs: pd.DataFrame) -> FilePool:
        """The pool of ``pairs`` built as ``selected_subset`` builds it (``selection.pool``)."""
        from scar_dagster.selection.outside_pool import cross_source_duplicates
        from scar_dagster.selection.pool import (
            FEATURE_VALUE_COLUMNS,
            pool_keys,
            with_features,
            with_scores,
        )
        from scar_dagster.selection.texts import frame_lookup

        kept, copies = cross_source_duplicates(pairs)
        no_features = pd.DataFrame(  # a file has no features: nothing is degenerate
            {"id": pairs["id"], **dict.fromkeys(FEATURE_VALUE_COLUMNS, np.nan)}
        ).astype({"degenerate_reason": "object"})
        keys = with_features(pool_keys(pairs, kept), [no_features])
        placeholder = pd.DataFrame({"id": keys["id"], "score": 0.0})
        pool, _ = with_scores(keys, [placeholder])
        return cls(pairs, pool, copies, frame_lookup(pairs, kept))

    def texts(self, rows: np.ndarray) -> tuple[list[str], list[str]]:
        """Instructions and responses of pool ``rows``."""
        ids = self.pool["id"].to_numpy(dtype=object)[rows].tolist()
        found = self.lookup(ids)
        return [found[i].instruction for i in ids], [found[i].response for i in ids]


def scores_with_progress(
    model: Any, tokenizer: Any, instructions: list[str], responses: list[str], args
) -> np.ndarray:
    """StyleRanker scores of the pairs in order, with a progress line on stderr."""
    from scar_dagster.progress import Progress
    from scar_dagster.ranker.inference.scoring import iter_scores

    progress = Progress("scoring", total=len(instructions), log=_logger(), unit="pairs")
    chunks: Iterator = iter_scores(
        model,
        tokenizer,
        instructions,
        responses,
        batch_size=args.batch_size,
        max_length=getattr(args, "max_length", None),
        num_threads=args.num_threads,
        chunk_size=256,
        device=args.device,
        dtype=args.dtype,
    )
    scores = [np.asarray(chunk, dtype=np.float64) for chunk in progress.track(chunks, size=len)]
    return np.concatenate(scores) if scores else np.empty(0, dtype=np.float64)


# --- filter ------------------------------------------------------------------------------------


def _params(args: argparse.Namespace, **choices: Any) -> Any:
    """The ``SelectionParams`` of the options (``choices``: the cutoff and fixed fields)."""
    from scar_dagster.selection import SelectionParams

    return SelectionParams(
        **choices,
        near_dedup=not args.no_near_dedup,
        minhash_threshold=args.similarity_threshold,
        num_perm=args.num_perm,
        lsh_bands=args.bands,
        near_method=args.near_method,
        compat=args.compat,
        seed=args.seed,
    )


def _cutoff(args: argparse.Namespace) -> dict[str, Any]:
    for name, key in (("topk", "top_k"), ("ratio", "ratio"), ("threshold", "threshold")):
        if getattr(args, name) is not None:
            return {key: getattr(args, name)}
    raise ValueError("one of --topk, --ratio or --threshold is needed")


def _read(args: argparse.Namespace) -> FilePool:
    log = _logger()
    pairs, quarantined = read_pairs(Path(args.input), raw=args.compat == "reference")
    if quarantined:
        log.info(f"{args.input}: {sum(quarantined.values())} rows not read: {quarantined}")
    return FilePool.of(pairs)


def _counts(files: FilePool, reason: np.ndarray) -> dict[str, int]:
    """Rows dropped per reason: the pool's codes plus the repeated ids (exact duplicates)."""
    from scar_dagster.selection.reason_codes import REASON_CODES

    counts = Counter({REASON_CODES[c]: int(n) for c, n in enumerate(np.bincount(reason)) if n})
    counts[schema.DEDUP_EXACT] += len(files.copies)
    return dict(counts)


def step_summary(total: int, dropped: dict[str, int], params: Any) -> list[dict[str, Any]]:
    """Kept and dropped rows after each filter step, in the toolkit's order (``STEPS``)."""
    skipped = {
        schema.LANGUAGE_NON_ENGLISH: params.english_threshold is None,
        schema.DEDUP_NEAR: not params.near_dedup,
    }
    rows, left = [], total
    for reason, name in STEPS:
        if skipped.get(reason):
            rows.append({"step": name, "skipped": True})
            continue
        gone = dropped.get(reason, 0)
        rows.append({"step": name, "kept": left - gone, "of": left, "dropped": {reason: gone}})
        left -= gone
    return rows


def _log_steps(steps: list[dict[str, Any]]) -> None:
    log = _logger()
    for step in steps:
        if step.get("skipped"):
            log.info(f"{step['step']}: skipped")
        else:
            log.info(f"{step['step']}: kept {step['kept']} of {step['of']} pairs")


def _cmd_filter(args: argparse.Namespace) -> int:
    from scar_dagster.ranker.model.published import load_ranker
    from scar_dagster.selection.decisions import decide, filter_pool

    params = _params(
        args,
        **_cutoff(args),
        english_threshold=None if args.no_english else args.english_threshold,
        english_rule=args.english_rule,
        dedup_keep=args.dedup_keep,
    )
    if args.compat == "reference" and args.dtype == "auto":
        args.dtype = "float32"  # the toolkit ranks in float32
    files = _read(args)
    pool, log = files.pool, _logger()
    filtered = None
    to_score = np.arange(len(pool))
    if params.dedup_keep == "first":  # the filters read no score: score only their survivors
        filtered = filter_pool(pool, files.lookup, params, log)
        to_score = np.flatnonzero(filtered[0] == 0)
    model, tokenizer, info = load_ranker(
        args.model, encoder=args.encoder, trust_remote_code=args.trust_remote_code
    )
    scores = np.full(len(pool), np.nan)
    scores[to_score] = scores_with_progress(model, tokenizer, *files.texts(to_score), args)
    pool["score"] = scores
    decided = decide(pool, files.lookup, params, log, filtered=filtered)
    steps = step_summary(len(files.pairs), _counts(files, decided.reason), params)
    _log_steps(steps)
    rows = decided.selected_rows
    written = write_selected(files, rows, decided.rank[rows], Path(args.output), args.format)
    log.info(
        f"ranked {len(to_score) if filtered is not None else len(pool)} pairs with ranker "
        f"{info['version']} ({info['format']}, {args.dtype}); selected {written} -> "
        f"{args.output}"
    )
    summary = {"input_rows": len(files.pairs), "steps": steps, "selected": written}
    print(json.dumps({**summary, "ranker": info["version"], "output": args.output}))
    return 0


def _frame(files: FilePool, rows: np.ndarray, rank: np.ndarray) -> pd.DataFrame:
    instructions, responses = files.texts(rows)
    return pd.DataFrame(
        {
            "id": files.pool["id"].to_numpy(dtype=object)[rows],
            "instruction": instructions,
            "response": responses,
            "score": files.pool["score"].to_numpy(dtype="float64")[rows],
            "rank": rank,
        }
    )


def write_selected(
    files: FilePool, rows: np.ndarray, rank: np.ndarray | None, output: Path, fmt: str
) -> int:
    """Write pool ``rows`` (in that order) as JSONL: ours (``id, instruction, response``, with
    ``rank`` their ``score`` and ``rank``, then ``origin_line``), Alpaca or ShareGPT records
    (``selection.export``'s); return the count."""
    from scar_dagster.selection.export import alpaca_lines, sharegpt_lines

    ranks = np.zeros(len(rows), dtype=np.int64) if rank is None else rank
    frame = _frame(files, rows, ranks)
    output.parent.mkdir(parents=True, exist_ok=True)
    with output.open("w", encoding="utf-8") as out:
        if fmt == "alpaca":
            out.writelines(alpaca_lines(frame))
        elif fmt == "sharegpt":
            out.writelines(sharegpt_lines(frame))
        else:
            first = files.pairs.drop_duplicates("id")
            lines = dict(zip(first["id"], first["origin_line"], strict=True))
            scored = [] if rank is None else ["score", "rank"]
            columns = ["id", "instruction", "response", *scored]
            for row in frame[columns].to_dict("records"):
                row["origin_line"] = int(lines[row["id"]])
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return len(frame)


# --- dedup -------------------------------------------------------------------------------------


def _cmd_dedup(args: argparse.Namespace) -> int:
    from scar_dagster.selection.decisions import filter_pool

    params = _params(args, ratio=1.0, english_threshold=None, dedup_keep="first")
    files = _read(args)
    reason, _ = filter_pool(files.pool, files.lookup, params, _logger())
    kept = np.flatnonzero(reason == 0)
    kept = kept[np.argsort(files.pool["_order"].to_numpy()[kept], kind="stable")]
    steps = step_summary(len(files.pairs), _counts(files, reason), params)
    steps = [step for step in steps if step["step"] != "English filter"]
    _log_steps(steps)
    written = write_selected(files, kept, None, Path(args.output), "jsonl")
    _logger().info(f"kept {written} of {len(files.pairs)} pairs -> {args.output}")
    print(json.dumps({"input_rows": len(files.pairs), "steps": steps, "kept": written}))
    return 0


# --- parser ------------------------------------------------------------------------------------


def _dedup_options(parser: argparse.ArgumentParser, threshold_flag: str) -> None:
    parser.add_argument("--input", required=True, help="pairs: any file the ingest reads")
    parser.add_argument("--output", required=True, help="JSONL to write")
    parser.add_argument(
        "--compat",
        default="none",
        choices=["none", "reference"],
        help="reference: the SCAR toolkit's texts and rules step by step (docs/stages.md)",
    )
    parser.add_argument(
        threshold_flag,
        dest="similarity_threshold",
        type=float,
        default=0.5,
        help="near duplicates: word-bigram Jaccard >= this (toolkit: 0.5)",
    )
    parser.add_argument("--no-near-dedup", action="store_true", help="skip near dedup")
    parser.add_argument(
        "--near-method",
        default="lsh",
        choices=["lsh", "exact"],
        help="lsh: confirm the pairs MinHash LSH proposes (may miss some); exact: every pair "
        "(an exact set-similarity join); --compat reference always finds every pair",
    )
    parser.add_argument("--num-perm", type=int, default=128, help="lsh: MinHash permutations")
    parser.add_argument(
        "--bands", type=int, default=None, help="lsh: bands (default: MinHashLSH's optimum)"
    )
    parser.add_argument("--seed", type=int, default=1, help="lsh: MinHash seed")


def add_filter_commands(commands: Any) -> None:
    """``filter`` and ``dedup`` under ``scar-dagster``."""
    flt = commands.add_parser(
        "filter",
        help="the SCAR toolkit's pipeline in one command: dedup, English, near dedup, rank, cut",
        description="Exact dedup -> English filter -> near dedup -> rank with a StyleRanker -> "
        "keep --topk/--ratio/--threshold, as the SCAR toolkit's filter_pipeline.py; writes "
        "the kept pairs best first. Progress and a count per step on stderr, a JSON summary "
        "on stdout.",
    )
    ranker_options(flt)
    _dedup_options(flt, "--similarity-threshold")
    cutoff_options(flt)
    flt.add_argument("--format", default="jsonl", choices=OUTPUT_FORMATS, help="output records")
    flt.add_argument("--max-length", type=int, default=None, help="tokens per text (default 512)")
    flt.add_argument("--num-threads", type=int, default=None, help="concurrent encoder batches")
    flt.add_argument(
        "--english-threshold", type=float, default=0.7, help="English: ASCII share > this"
    )
    flt.add_argument("--no-english", action="store_true", help="skip the English filter")
    flt.add_argument(
        "--english-rule",
        default="letters",
        choices=["letters", "reference"],
        help="letters: ASCII letters among letters; reference: among all characters",
    )
    flt.add_argument(
        "--dedup-keep",
        default="score",
        choices=["score", "first"],
        help="which copy of a duplicate group stays: the best-scored or the first in the file",
    )
    flt.set_defaults(run=_cmd_filter)
    dedup = commands.add_parser(
        "dedup",
        help="exact and near dedup of one file, the kept rows in input order",
        description="Exact dedup, then near dedup (word-bigram Jaccard >= --threshold); the "
        "first row of a duplicate group stays. Writes the kept rows as JSONL in input order; "
        "the dropped ones are counted by reason on stderr.",
    )
    _dedup_options(dedup, "--threshold")
    dedup.set_defaults(run=_cmd_dedup)
