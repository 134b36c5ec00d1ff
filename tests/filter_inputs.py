"""A planted file for ``scar-dagster filter`` / ``dedup`` tests: every step of the SCAR
toolkit's pipeline has rows to drop, and some rows read differently raw and normalised."""

from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = (  # noqa: SIM905 - a word list reads better as text
    "the model data value list result step first then each example function return loss "
    "train answer question simple clear short long plan write read test check build keep "
    "sort group count print file line word text table score rank select filter clean"
).split()
RUSSIAN = "Это пример ответа на русском языке, который не проходит английский фильтр."


def _sentence(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def _edited(text: str, rng: random.Random, edits: int) -> str:
    words = text.split()
    for _ in range(edits):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    return " ".join(words)


def planted_rows(seed: int = 0, distinct: int = 18) -> list[dict[str, str]]:
    """Alpaca rows (``instruction, input, output``): distinct pairs, exact copies (verbatim
    and with surrounding whitespace), non-English answers, code the toolkit's English rule
    drops and ours keeps, a clique of near duplicates, and texts with a tab and blank-line
    runs (normalised at ingest, raw for the toolkit)."""
    rng = random.Random(seed)
    rows = [
        {
            "instruction": f"Question {i}: {_sentence(rng, 8)}",
            "input": "",
            "output": " ".join(_sentence(rng, rng.randint(6, 14)) for _ in range(3)),
        }
        for i in range(distinct)
    ]
    base = rows[2]
    rows.append(dict(base))  # a verbatim copy
    rows.append({**rows[5], "output": "  " + rows[5]["output"] + "\n"})  # the same once stripped
    rows.append({"instruction": "Translate the greeting", "input": "", "output": RUSSIAN})
    rows.append({"instruction": "Объясни шаг", "input": "", "output": RUSSIAN + " 2"})
    code = "def total(xs):\n    return sum(x * 2 for x in xs)  # [1, 2, 3] -> 12"
    rows.append({"instruction": "Sum a list twice", "input": "", "output": code})
    long = " ".join(_sentence(rng, 12) for _ in range(4))
    rows += [
        {"instruction": "Describe the plan", "input": "", "output": long},
        {"instruction": "Describe the plan", "input": "", "output": _edited(long, rng, 2)},
        {"instruction": "Describe the plan", "input": "", "output": _edited(long, rng, 3)},
    ]
    rows.append(
        {
            "instruction": "Format\tthe table",
            "input": "with two columns",  # the toolkit reads no input
            "output": "First row.\n\n\n\nSecond\trow, " + _sentence(rng, 9),
        }
    )
    return rows


def write_rows(path: Path, rows: list[dict[str, str]]) -> Path:
    """A JSON array file (the toolkit's input format, which the ingest reads too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    return path
