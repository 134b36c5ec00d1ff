"""Run the SCAR toolkit (``scar-tool``) on a JSON file as its ``filter_pipeline.py`` does, for
tests: ``python -m tests.run_toolkit INPUT CHECKPOINT TOPK OUT``.

Exact dedup and the English filter are its pipeline script's rules (``tests.toolkit_rules``:
the script is not in the wheel); near dedup is the toolkit's own ``lsh_near_deduplication``
(128 permutations, 16 bands, bigrams, 0.5) and ``select_distinct_indexes``; ranking is its own
``rank_and_filter`` on CPU. One change: its tokenizer's punkt sentence split needs data that
cannot be downloaded here, so ``word_tokenize`` runs with ``preserve_line=True`` (the same
tokens ``compat: reference`` uses). Writes the counts after each step and the selected
``(instruction, output, score)`` to OUT as JSON (the toolkit prints to stdout itself).
"""

from __future__ import annotations

import functools
import json
import sys


def main(argv: list[str]) -> None:
    source, checkpoint, topk, out = argv
    import nltk
    import numpy as np
    from style_ranker import dedup
    from style_ranker.rank import rank_and_filter

    from tests.toolkit_rules import toolkit_exact_dedup, toolkit_is_english

    dedup.word_tokenize = functools.partial(nltk.word_tokenize, preserve_line=True)
    np.random.seed(0)  # its LSH permutations are unseeded; its exhaustive pass finds all pairs
    with open(source, encoding="utf-8") as handle:
        rows = json.load(handle)
    counts = {"input": len(rows)}
    rows = toolkit_exact_dedup(rows)
    counts["exact dedup"] = len(rows)
    rows = [
        r for r in rows if toolkit_is_english(r["instruction"]) and toolkit_is_english(r["output"])
    ]
    counts["English filter"] = len(rows)
    texts = [f"{r['instruction']} {r['output']}" for r in rows]
    clusters = dedup.lsh_near_deduplication(texts, 128, 16, 2, 0.5)
    rows = [rows[i] for i in dedup.select_distinct_indexes(clusters, len(texts))]
    counts["near dedup"] = len(rows)
    kept = rank_and_filter(
        checkpoint,
        [r["instruction"] for r in rows],
        [r["output"] for r in rows],
        topk=int(topk),
        device="cpu",
    )
    with open(out, "w", encoding="utf-8") as handle:
        json.dump({"counts": counts, "selected": [list(k) for k in kept]}, handle)


if __name__ == "__main__":
    main(sys.argv[1:])
