"""A seeded synthetic landing zone: instruction/response pairs over several sources, at any size.

Same seed, same sizes -> the same bytes. Word counts are log-normal (instructions: median about
16 words; responses: median about 120 words, at least 20, long tail into the thousands), from a
seeded Zipf-weighted vocabulary of pseudo-words. Each source has its own input format and mix
of styles (markdown bullets and headers, numbered steps, code blocks, plain prose). About 1% of
the records repeat an earlier record of the source verbatim (``ingest_duplicate``), about 0.2%
are bad (malformed JSON, empty response, missing field) and about 0.2% answer in Russian (the
English filter drops them at selection).

Also here, for the other benchmarks: response-like texts from a plain English word list
(``synthetic_text``), ShareGPT JSON-array dumps and their cut (damaged) copies, and
deterministic scores and style features derived from pair ids.

    .venv/bin/python -m benchmarks.synthetic OUT_DIR --rows 10000 [--seed 0]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

SYLLABLES = (  # noqa: SIM905 - a syllable list reads better as text
    "ka lo mi ra te su ne vo pa li do ra sen tor mal vik ber ans ion ing ex pre con tra "
    "dis ment ful ly ter at ic al ro ma ne tu si be ga ho fu ze qua stra plex gen"
).split()
COMMON = (  # noqa: SIM905
    "the of and to a in is that for it as with be by on not this are or from at which but "
    "have an they you one all we can more when if so what about use your each how data model "
    "value function example first then should because also only new step result"
).split()
CODE_LINES = (
    "import numpy as np",
    "def solve(values):",
    "    total = sum(values)",
    "    return total / len(values)",
    "for item in items:",
    "    print(item)",
    "result = solve([1, 2, 3])",
    "with open(path) as handle:",
    "    data = handle.read()",
)
RUSSIAN = "Это пример ответа на русском языке, который не проходит английский фильтр."
N_SENTENCES = 5000
TAIL_COLUMNS = 192  # sentences drawn per row; enough for the longest responses


@dataclass(frozen=True)
class SourceSpec:
    """One source: a name, an input format and the probability of each response style."""

    name: str
    fmt: str  # alpaca | prompt_response | sharegpt | messages
    styles: tuple[tuple[str, float], ...]


SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec("guides", "alpaca", (("markdown", 0.6), ("numbered", 0.3), ("prose", 0.1))),
    SourceSpec("code", "prompt_response", (("code", 0.7), ("prose", 0.2), ("markdown", 0.1))),
    SourceSpec("forum", "sharegpt", (("prose", 0.85), ("numbered", 0.1), ("code", 0.05))),
    SourceSpec(
        "mixed",
        "messages",
        (("prose", 0.25), ("markdown", 0.25), ("numbered", 0.25), ("code", 0.25)),
    ),
)
EXTRA_SOURCE = SourceSpec("late_arrivals", "alpaca", (("markdown", 0.5), ("prose", 0.5)))


@dataclass(frozen=True)
class SourceCounts:
    """What was written for one source: records (non-blank lines) and how many are special."""

    source: str
    records: int
    bad: int
    duplicates: int
    non_english: int
    files: int


class Vocabulary:
    """Seeded Zipf-weighted pseudo-words and a pool of sentences built from them."""

    def __init__(self, seed: int, n_words: int = 4000) -> None:
        rng = np.random.Generator(np.random.PCG64([seed, 7]))
        made = {
            "".join(rng.choice(SYLLABLES, size=int(rng.integers(1, 4)))) for _ in range(n_words * 2)
        }
        pool = sorted(made - set(COMMON))
        words = COMMON + [pool[i] for i in rng.permutation(len(pool))[:n_words]]
        weights = 1.0 / np.arange(1, len(words) + 1) ** 1.07
        lengths = np.clip(rng.lognormal(np.log(12), 0.45, N_SENTENCES), 3, 40).astype(int)
        ends = np.array([".", ".", ".", ".", "?", "!", ":"])
        self.sentences = [
            self._sentence(rng, words, weights / weights.sum(), n, str(rng.choice(ends)))
            for n in lengths
        ]
        self.lengths = lengths

    @staticmethod
    def _sentence(rng: np.random.Generator, words: list[str], p: np.ndarray, n: int, end: str):
        picked = [words[i] for i in rng.choice(len(words), size=n, p=p)]
        if n > 8:
            picked[int(rng.integers(3, n - 2))] += ","
        return " ".join(picked).capitalize() + end


def _take(vocab: Vocabulary, rng: np.random.Generator, targets: np.ndarray) -> list[np.ndarray]:
    """For each target word count, the sentence indices whose lengths first reach it."""
    picks = rng.integers(0, len(vocab.sentences), size=(len(targets), TAIL_COLUMNS))
    totals = np.cumsum(vocab.lengths[picks], axis=1)
    counts = np.minimum((totals < targets[:, None]).sum(axis=1) + 1, TAIL_COLUMNS)
    return [row[:count] for row, count in zip(picks, counts, strict=True)]


def _style_text(style: str, sentences: list[str], rng: np.random.Generator) -> str:
    """Lay sentences out in one style."""
    if style == "markdown":
        title = sentences[0].rstrip(".?!:")
        bullets = "\n".join(f"- {s}" for s in sentences[1:]) or f"- {sentences[0]}"
        bold = "**Summary:** " if rng.random() < 0.5 else ""
        return f"## {title}\n\n{bullets}\n\n{bold}{sentences[-1]}"
    if style == "numbered":
        return "\n".join(f"{i}. {s}" for i, s in enumerate(sentences, start=1))
    if style == "code":
        start = int(rng.integers(0, len(CODE_LINES) - 3))
        code = "\n".join(CODE_LINES[start : start + int(rng.integers(3, 6))])
        half = max(1, len(sentences) // 2)
        before, after = " ".join(sentences[:half]), " ".join(sentences[half:])
        return f"{before}\n\n```python\n{code}\n```\n\n{after}".strip()
    paragraphs = [" ".join(sentences[i : i + 4]) for i in range(0, len(sentences), 4)]
    return "\n\n".join(paragraphs)


def _record(fmt: str, instruction: str, response: str) -> dict[str, Any]:
    if fmt == "alpaca":
        return {"instruction": instruction, "input": "", "output": response}
    if fmt == "prompt_response":
        return {"prompt": instruction, "response": response}
    if fmt == "sharegpt":
        turns = [{"from": "human", "value": instruction}, {"from": "gpt", "value": response}]
        return {"conversations": turns}
    turns = [{"role": "user", "content": instruction}, {"role": "assistant", "content": response}]
    return {"messages": turns}


def _bad_line(kind: int, instruction: str) -> str:
    if kind == 0:
        return json.dumps({"instruction": instruction, "output": "cut"})[:-9]  # malformed JSON
    if kind == 1:
        return json.dumps({"prompt": instruction, "response": "   "})  # empty response
    return json.dumps({"prompt": instruction})  # missing field


class _SourceWriter:
    """Draws rows of one source chunk by chunk and writes them as JSONL part files."""

    def __init__(self, spec: SourceSpec, vocab: Vocabulary, seed: int) -> None:
        self.spec, self.vocab = spec, vocab
        self.rng = np.random.Generator(np.random.PCG64([seed, zlib.crc32(spec.name.encode())]))
        self.styles = [s for s, _ in spec.styles]
        self.style_p = np.array([p for _, p in spec.styles])
        self.recent: list[str] = []
        self.counts = {"bad": 0, "duplicates": 0, "non_english": 0}

    def lines(self, n: int, chunk: int = 5000) -> Iterator[str]:
        """``n`` JSONL lines (records), drawn ``chunk`` at a time."""
        for start in range(0, n, chunk):
            yield from self._chunk(min(chunk, n - start))

    def _chunk(self, n: int) -> Iterator[str]:
        rng, vocab = self.rng, self.vocab
        n_instr = np.clip(rng.lognormal(np.log(16), 0.5, n), 3, 150)
        n_resp = np.clip(rng.lognormal(np.log(120), 0.75, n), 20, 2400)
        instr = _take(vocab, rng, n_instr)
        resp = _take(vocab, rng, n_resp)
        styles = rng.choice(len(self.styles), size=n, p=self.style_p)
        special = rng.random(n)
        for i in range(n):
            instruction = " ".join(vocab.sentences[j] for j in instr[i])
            sentences = [vocab.sentences[j] for j in resp[i]]
            yield self._line(special[i], instruction, sentences, styles[i])

    def _line(self, u: float, instruction: str, sentences: list[str], style: int) -> str:
        if u < 0.002:
            self.counts["bad"] += 1
            return _bad_line(int(self.rng.integers(0, 3)), instruction)
        if u < 0.012 and self.recent:
            self.counts["duplicates"] += 1
            return self.recent[int(self.rng.integers(0, len(self.recent)))]
        response = _style_text(self.styles[style], sentences, self.rng)
        if u > 0.998:
            self.counts["non_english"] += 1
            # A row number keeps Russian rows distinct (digits do not count as letters).
            response = f"{RUSSIAN} {RUSSIAN} №{self.counts['non_english']}"
        line = json.dumps(_record(self.spec.fmt, instruction, response), ensure_ascii=False)
        self.recent = [*self.recent[-99:], line]
        return line


def write_source(
    root: Path, spec: SourceSpec, n_rows: int, vocab: Vocabulary, seed: int, file_rows: int
) -> SourceCounts:
    """Write ``n_rows`` records of one source as ``root/<name>/part-NNNNN.jsonl`` files."""
    folder = Path(root) / spec.name
    folder.mkdir(parents=True, exist_ok=True)
    writer = _SourceWriter(spec, vocab, seed)
    files = 0
    handle = None
    for index, line in enumerate(writer.lines(n_rows)):
        if index % file_rows == 0:
            if handle:
                handle.close()
            handle = (folder / f"part-{files:05d}.jsonl").open("w", encoding="utf-8")
            files += 1
        handle.write(line + "\n")
    if handle:
        handle.close()
    return SourceCounts(spec.name, n_rows, files=files, **writer.counts)


def split_rows(n_rows: int, n_sources: int) -> list[int]:
    """Rows per source: as even as possible, the remainder to the first sources."""
    base, extra = divmod(n_rows, n_sources)
    return [base + (i < extra) for i in range(n_sources)]


def write_landing_zone(
    root: str | Path,
    n_rows: int,
    *,
    seed: int = 0,
    sources: tuple[SourceSpec, ...] = SOURCES,
    file_rows: int = 50_000,
) -> list[SourceCounts]:
    """Write ``n_rows`` records split over ``sources`` under ``root``; return what was written."""
    vocab = Vocabulary(seed)
    rows = split_rows(n_rows, len(sources))
    return [
        write_source(Path(root), spec, n, vocab, seed, file_rows)
        for spec, n in zip(sources, rows, strict=True)
    ]


# ---------------------------------------------------------------- texts, dumps, ids


WORDS = (  # noqa: SIM905 - a word list reads better as text
    "the of and to a in is that for it as was with be by on not this are or from at which but have "
    "an they you were there been one all we their has would when if so what no can more out up "
    "other into could time only new some about two may first then do any like now over such our "
    "even most made after also did many before must through years where much your way well down "
    "should because each just those people how too little good very make world still own see work "
    "long get here between both life being under never day same another know while last might "
    "great old year off come since against go right used take three function return value list "
    "string error python data model training loss example photosynthesis approximately consider "
    "environment structure performance important however therefore information algorithm"
).split()


def synthetic_text(rng: random.Random, lo: int, hi: int) -> str:
    """A seeded response-like text: sentences, and sometimes bullets, headers, bold or code."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(lo, hi))]
    out, sentence = [], []
    for word in words:
        sentence.append(word)
        if len(sentence) >= rng.randint(6, 20):
            out.append(" ".join(sentence).capitalize() + rng.choice([".", ".", ".", "?", "!"]))
            sentence = []
    if sentence:
        out.append(" ".join(sentence).capitalize() + ".")
    style = rng.random()
    if style < 0.25:
        return "## Answer\n\n" + "\n".join(f"- {s}" for s in out)
    if style < 0.4:
        return " ".join(out) + "\n\n```python\nresult = model(data)\nprint(result)\n```"
    if style < 0.5:
        return "**Note:** " + " ".join(out)
    return " ".join(out)


def write_dump(path: Path, target_mb: int, seed: int) -> int:
    """Write a ShareGPT-format JSON array of about ``target_mb`` MB; return its record count."""
    rng = random.Random(seed)
    written, count = 0, 0
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        while written < target_mb * 1_000_000:
            record = {
                "id": f"conv-{count}",
                "conversations": [
                    {"from": "human", "value": f"({count}) {synthetic_text(rng, 8, 30)}"},
                    {"from": "gpt", "value": synthetic_text(rng, 80, 400)},
                ],
            }
            text = ("," if count else "") + json.dumps(record)
            out.write(text)
            written += len(text)
            count += 1
        out.write("]")
    return count


def cut_dump(path: Path, share: float) -> tuple[int, int]:
    """Cut the dump in the middle of a record at about ``share`` of its bytes.

    Returns ``(complete_records, cut_offset)``.
    """
    data = path.read_bytes()
    cut = int(len(data) * share)
    marker = b'{"id": "conv-'
    starts = data.count(marker, 0, cut)
    while data[cut - 1 : cut + 1] in (b"},", b"}]") or data.startswith(marker, cut):
        cut += 7  # not on a record boundary
    path.write_bytes(data[:cut])
    return starts - 1, cut  # the last record started before the cut is incomplete


def write_damaged_dump(folder: Path, records: int, seed: int) -> dict[str, int]:
    """A gzipped ShareGPT JSON array of about ``records`` records, cut mid-record at 90%."""
    folder.mkdir(parents=True, exist_ok=True)
    plain = folder / "dump.json"
    # write_dump sizes by MB; its records average about 1.6 kB
    written = write_dump(plain, max(1, round(records * 1.6 / 1000)), seed)
    complete, _ = cut_dump(plain, 0.9)
    with gzip.open(folder / "dump.json.gz", "wb", compresslevel=1) as out:
        out.write(plain.read_bytes())
    plain.unlink()
    return {"records_written": written, "complete_records": complete}


def unit(pair_id: str, salt: str) -> float:
    """A deterministic number in [0, 1) from an id."""
    return int(hashlib.sha256(f"{salt}:{pair_id}".encode()).hexdigest()[:8], 16) / 2**32


def synthetic_scores(ids: Sequence[str]) -> list[float]:
    """Deterministic scores in [-1, 1) from the ids, 4 decimals (so there are ties)."""
    return [round(2 * unit(i, "score") - 1, 4) for i in ids]


def synthetic_features(ids: Sequence[str]) -> Any:
    """A ``style_features`` frame from the ids: every style metric in [0, 1), 0.1% of the rows
    degenerate (``features_empty_response``)."""
    import pandas as pd

    from scar_dagster.schema import STYLE_METRICS

    degenerate = ["features_empty_response" if unit(i, "degenerate") < 0.001 else None for i in ids]
    metrics = {m: [unit(i, m) for i in ids] for m in STYLE_METRICS}
    return pd.DataFrame({"id": list(ids), "degenerate_reason": degenerate, **metrics})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for counts in write_landing_zone(args.out, args.rows, seed=args.seed):
        print(json.dumps(asdict(counts)))


if __name__ == "__main__":
    main()
