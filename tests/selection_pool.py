"""A planted selection pool shared by the memory/streaming path tests."""

from __future__ import annotations

import random

import pandas as pd

from scar_dagster import schema

RANKER = "rv-paths"


def _words(rng: random.Random, n: int) -> list[str]:
    return [f"w{rng.randrange(3000)}" for _ in range(n)]


def planted_pairs(n: int = 150, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``(pairs, features, scores)`` over three sources in two files each, with tied scores,
    exact duplicates, near duplicates (a one-word edit, the copy sometimes scoring higher and
    sometimes earlier in input order), non-English, symbol-only and degenerate rows."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        rows.append(
            {
                "id": f"{rng.getrandbits(40):010x}",
                "source": "abc"[i % 3],
                "instruction": f"Explain item {i}.",
                "response": " ".join(_words(rng, rng.randint(20, 40))),
                "origin_file": f"part-{rng.randrange(2)}.jsonl",
                "origin_line": rng.randrange(10_000),
            }
        )
    pairs = pd.DataFrame(rows)
    for copy, original in [(10, 3), (11, 4), (40, 41), (70, 2), (90, 91), (120, 5), (121, 5)]:
        words = pairs.loc[original, "response"].split()
        words[rng.randrange(len(words))] = "edited"
        pairs.loc[copy, ["instruction", "response"]] = [
            pairs.loc[original, "instruction"],
            " ".join(words),
        ]
    pairs.loc[20, ["instruction", "response"]] = pairs.loc[21, ["instruction", "response"]].tolist()
    pairs.loc[22, "response"] = pairs.loc[23, "response"].upper()  # exact after case-folding
    pairs.loc[[30, 31], "response"] = "Это совсем не английский текст, друг мой"
    pairs.loc[32, "response"] = "1234 + 5678 = 6912 !!!"  # no letters: the rules disagree
    pairs.loc[33, "response"] = "x = 1; y = 2; z = 3; print(x + y + z) # 42 42 42 42"
    features = pd.DataFrame(
        {
            "id": pairs["id"],
            "degenerate_reason": [
                "features_empty_response" if i in (50, 51) else None for i in range(n)
            ],
            **{m: [rng.uniform(0, 1) for _ in range(n)] for m in schema.STYLE_METRICS},
        }
    )
    scores = pd.DataFrame(
        {
            "pair_id": pairs["id"],
            "source": pairs["source"],
            "score": [round(rng.uniform(-1, 1), 1) for _ in range(n)],  # many ties
        }
    )
    return pairs, features, scores
