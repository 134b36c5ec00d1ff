#!/usr/bin/env python
"""Generate the bundled sample data under ``data/sample/``: seeded and byte-for-byte reproducible.

Every text is written by this script from templates and word lists authored for it, kept as TOML
beside it in ``scripts/sample_banks/`` (topics, code tasks, phrases); no model and no third-party
dataset is involved. Only the standard library and pyarrow are used. The banks are read in file
order and the generator is seeded, so editing a bank changes the data: regenerate and commit both.

Sources (one folder each, the folder name is the source name):

- ``forum_answers``: terse, lowercase-ish human forum answers (10-60 words, one paragraph, no
  markdown, abbreviations such as "imo", "afaik", a few typos). Alpaca JSONL split over
  ``part-000.jsonl`` (every row has an ``input`` key) and ``part-001.jsonl`` (``input`` only when
  it is non-empty, as if exported by another tool).
- ``assistant_guides``: structured assistant answers (one-line intro, ``##`` headers, bullet or
  numbered lists, **bold** terms, closing summary; 80-250 words). One ShareGPT/Vicuna JSON
  array, ``guides.json``.
- ``code_snippets``: programming Q&A (one sentence of explanation, a fenced ``python``/``bash``/
  ``sql`` block, a short note; 40-200 words). Parquet with columns ``prompt`` and ``response``,
  ``snippets.parquet``.
- ``mixed_style``: the three styles mixed within one source (generic ``prompt``/``response``
  JSONL, ``pairs.jsonl``), to show that selection prefers one consistent style.

Planted dirty rows, all in ``forum_answers``: ``PLANTED`` says where and what (malformed JSON,
empty and missing output, two exact duplicates, a Russian answer); the generated README lists them.

Diversity: dozens of topics and code tasks x question templates x slot values; within a source
no prompt repeats, no response repeats anywhere, and two pairs of one topic or code task share at
most ``NEAR_DUPLICATE_MAX`` of their word bigrams (Jaccard), so near-dedup finds only the planted
rows. Each source draws from its own ``random.Random(f"{seed}:{source}")`` stream.

Usage: ``python scripts/generate_sample_data.py [--out data/sample] [--seed 7]``
"""

from __future__ import annotations

import argparse
import json
import random
import re
import tomllib
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

DEFAULT_SEED = 7
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "data" / "sample"
BANKS = Path(__file__).resolve().parent / "sample_banks"

FORUM = "forum_answers"
GUIDES = "assistant_guides"
CODE = "code_snippets"
MIXED = "mixed_style"

FORUM_COUNT = 220  # clean English rows, split evenly over two files
GUIDE_COUNT = 220
CODE_COUNT = 220
MIXED_COUNT = 60  # a third of each style

FORUM_FILES = ("part-000.jsonl", "part-001.jsonl")
GUIDE_FILE = "guides.json"
CODE_FILE = "snippets.parquet"
MIXED_FILE = "pairs.jsonl"

WORD_BOUNDS = {"forum": (10, 60), "guide": (80, 250), "code": (40, 200)}


# --------------------------------------------------------------------------------------------
# Banks: topics, code tasks and phrases, read from scripts/sample_banks/*.toml
# --------------------------------------------------------------------------------------------


def load_bank(name: str) -> dict[str, Any]:
    """The TOML bank ``scripts/sample_banks/<name>.toml``."""
    with (BANKS / f"{name}.toml").open("rb") as handle:
        return tomllib.load(handle)


@dataclass(frozen=True, slots=True)
class Tip:
    """One piece of advice: a short term, an imperative action and the reason behind it."""

    term: str
    action: str
    reason: str


@dataclass(frozen=True, slots=True)
class Topic:
    """A how-to topic: the goal as a verb phrase, its tips and common mistakes."""

    goal: str
    tips: tuple[Tip, ...]
    mistakes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CodeTask:
    """A programming task: instruction phrases, explanations, code template and notes."""

    lang: str
    tool: str
    data: bool
    whats: tuple[str, ...]
    whys: tuple[str, ...]
    notes: tuple[str, ...]
    pools: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]
    code: str


def load_topics(bank: dict[str, Any]) -> tuple[Topic, ...]:
    """Topics of ``topics.toml``: ``tips`` are ``[term, action, reason]`` triples."""
    return tuple(
        Topic(t["goal"], tuple(Tip(*tip) for tip in t["tips"]), tuple(t["mistakes"]))
        for t in bank["topic"]
    )


def load_code_tasks(bank: dict[str, Any]) -> tuple[CodeTask, ...]:
    """Tasks of ``code_tasks.toml``; ``pool."a|b"`` options fill the slots @a@ and @b@."""
    return tuple(
        CodeTask(
            task["lang"],
            task["tool"],
            task.get("data", False),
            tuple(task["what"]),
            tuple(task["why"]),
            tuple(task["note"]),
            tuple(
                (tuple(names.split("|")), tuple(options))
                for names, options in task.get("pool", {}).items()
            ),
            task["code"].strip("\n"),
        )
        for task in bank["task"]
    )


def load_datasets(bank: dict[str, Any]) -> tuple[dict[str, str], ...]:
    """Rows of ``[datasets]`` as slot values (``stem``, ``num``, ``cat``, ...)."""
    fields = bank["datasets"]["fields"]
    return tuple(dict(zip(fields, row, strict=True)) for row in bank["datasets"]["rows"])


def weighted(options: list[str | list]) -> tuple[str, ...]:
    """Expand ``[word, n]`` to n copies, so a seeded choice keeps its exact weights."""
    return tuple(
        word
        for item in options
        for word in ([item[0]] * item[1] if isinstance(item, list) else [item])
    )


TOPICS = load_topics(load_bank("topics"))
_CODE_BANK = load_bank("code_tasks")
CODE_TASKS = load_code_tasks(_CODE_BANK)
DATASETS = load_datasets(_CODE_BANK)
PHRASES = load_bank("phrases")
FORUM_PHRASES, GUIDE_PHRASES, CODE_PHRASES = PHRASES["forum"], PHRASES["guide"], PHRASES["code"]


def gerund(goal: str) -> str:
    """'keep houseplants alive' -> 'keeping houseplants alive'."""
    verb, _, rest = goal.partition(" ")
    if verb in PHRASES["gerunds"]:
        ing = PHRASES["gerunds"][verb]
    elif verb.endswith("e") and not verb.endswith("ee"):
        ing = verb[:-1] + "ing"
    else:
        ing = verb + "ing"
    return f"{ing} {rest}".strip()


def capitalize(text: str) -> str:
    """Upper-case the first character only."""
    return text[:1].upper() + text[1:]


def word_count(text: str) -> int:
    """Whitespace-separated words, the unit of the documented length bounds."""
    return len(text.split())


# --------------------------------------------------------------------------------------------
# Forum style: terse, informal, lowercase-ish, one paragraph.
# --------------------------------------------------------------------------------------------

_TYPOS = {word: weighted(options) for word, options in FORUM_PHRASES["typos"].items()}
_TYPO_PATTERN = re.compile(
    r"\b(" + "|".join(re.escape(word) for word in sorted(_TYPOS, key=len, reverse=True)) + r")\b"
)


def add_typos(rng: random.Random, text: str) -> str:
    """Swap some words for abbreviations and common misspellings (seeded, left to right)."""
    return _TYPO_PATTERN.sub(lambda match: rng.choice(_TYPOS[match.group(1)]), text)


def forum_tip(rng: random.Random, tip: Tip) -> str:
    """One tip in forum voice, with or without the reason."""
    roll = rng.random()
    if roll < 0.35:
        return tip.action
    if roll < 0.6:
        return f"{tip.action} because {tip.reason}"
    if roll < 0.8:
        return f"{tip.action}, {tip.reason}"
    return f"{tip.action} since {tip.reason}"


def forum_question(rng: random.Random, topic: Topic) -> str:
    """A question as a forum user would type it."""
    template = rng.choice(FORUM_PHRASES["questions"])
    return template.format(goal=topic.goal, gerund=gerund(topic.goal))


def render_forum(rng: random.Random, topic: Topic, context_reply: str | None = None) -> str:
    """A terse forum answer: 1-3 tips, maybe a mistake, informal opener and closer."""
    tips = rng.sample(topic.tips, rng.choice((1, 2, 2, 2, 3)))
    parts = [forum_tip(rng, tips[0])]
    parts += [rng.choice(FORUM_PHRASES["links"]) + forum_tip(rng, tip) for tip in tips[1:]]
    if rng.random() < 0.3:
        line = rng.choice(FORUM_PHRASES["mistake_lines"]).format(m=rng.choice(topic.mistakes))
        parts.insert(rng.randrange(len(parts) + 1), line)
    if context_reply:
        parts.insert(rng.choice((0, len(parts))), context_reply)
    starts_with_tip = parts[0].startswith(tips[0].action)
    separator = rng.choice((". ", " ", ", ", ". "))
    body = separator.join(parts)
    openers = FORUM_PHRASES["openers"]
    if starts_with_tip:
        openers = openers + FORUM_PHRASES["tip_openers"]
    opener, closer = rng.choice(openers), rng.choice(FORUM_PHRASES["closers"])
    text = " ".join(piece for piece in (opener, body) if piece)
    if closer:
        text = f"{text}{rng.choice(('. ', ' ', ' - '))}{closer}"
    text = add_typos(rng, text.lower())
    if rng.random() < 0.15:
        text = capitalize(text)
    return text + rng.choice(("", "", "", ".", "!", " :)"))


# --------------------------------------------------------------------------------------------
# Guide style: intro line, ## headers, lists with **bold** terms, closing summary.
# --------------------------------------------------------------------------------------------

AUDIENCES = GUIDE_PHRASES["audiences"]  # [instruction suffix, extra sentence on the intro line]
GUIDE_QUESTIONS = GUIDE_PHRASES["questions"]


def _guide_item(style: int, marker: str, tip: Tip) -> str:
    if style == 0:
        return f"{marker} **{tip.term}**: {capitalize(tip.action)}, since {tip.reason}."
    if style == 1:
        return f"{marker} **{tip.term}** \u2014 {tip.action}, because {tip.reason}."
    return f"{marker} **{capitalize(tip.action)}.** {capitalize(tip.reason)}."


def render_guide(rng: random.Random, topic: Topic, audience: int, mistakes_first: bool) -> str:
    """A structured assistant guide for one topic."""
    suffix, aside = AUDIENCES[audience]
    fields = {"goal": topic.goal, "gerund": gerund(topic.goal), "aud": suffix}
    fields["Gerund"] = capitalize(fields["gerund"])
    intro = rng.choice(GUIDE_PHRASES["intros"]).format(**fields)
    if aside:
        intro = f"{intro} {aside}"

    pool = list(topic.tips)
    rng.shuffle(pool)
    n_steps = rng.choice((3, 4, 4, 5))
    steps, rest = pool[:n_steps], pool[n_steps:]
    style = rng.randrange(3)
    numbered = rng.random() < 0.55
    step_lines = [
        _guide_item(style, f"{i}." if numbered else "-", tip) for i, tip in enumerate(steps, 1)
    ]
    step_header = (
        "## Do this instead" if mistakes_first else rng.choice(GUIDE_PHRASES["step_headers"])
    )
    step_block = "\n".join([step_header, "", *step_lines])

    mistakes = rng.sample(topic.mistakes, rng.choice((2, 2, 3)))
    mistake_lines = [f"- {capitalize(m)}." for m in mistakes]
    mistake_block = "\n".join([rng.choice(GUIDE_PHRASES["mistake_headers"]), "", *mistake_lines])

    blocks = [intro]
    if mistakes_first:
        blocks += [mistake_block, step_block]
    else:
        blocks.append(step_block)
        if rng.random() < 0.7:
            blocks.append(mistake_block)
    if rest and rng.random() < 0.35:
        extra = rest[0]
        header = rng.choice(GUIDE_PHRASES["extra_headers"])
        blocks.append(f"{header}\n\n{capitalize(extra.action)}: {extra.reason}.")
    summary = rng.choice(GUIDE_PHRASES["summaries"]).format(
        t1=steps[0].term.lower(),
        t2=steps[1].term.lower(),
        A1=capitalize(steps[0].action),
        a1=steps[0].action,
        a2=steps[1].action,
        m1=mistakes[0],
        goal=topic.goal,
    )
    blocks.append(summary)
    return "\n\n".join(blocks)


def guide_question(rng: random.Random, topic: Topic, audience: int, template: int) -> str:
    """The human turn for a guide."""
    fields = {"goal": topic.goal, "gerund": gerund(topic.goal), "aud": AUDIENCES[audience][0]}
    return GUIDE_QUESTIONS[template].format(**fields)


# --------------------------------------------------------------------------------------------
# Code style: one explanation sentence, a fenced block, a short note.
# --------------------------------------------------------------------------------------------

_SLOT = re.compile(r"@([a-z][a-z0-9_]*)@")


def fill(template: str, values: dict[str, str]) -> str:
    """Replace ``@name@`` slots (two passes: a value may name another slot)."""
    for _ in range(2):
        template = _SLOT.sub(lambda match: values[match.group(1)], template)
    return template


def code_values(rng: random.Random, spec: CodeTask, dataset: dict[str, str]) -> dict[str, str]:
    """Pick slot values for one use of a task."""
    values = dict(dataset) if spec.data else {}
    for names, options in spec.pools:
        values.update(zip(names, rng.choice(options).split("|"), strict=True))
    return values


def render_code(rng: random.Random, spec: CodeTask, values: dict[str, str]) -> tuple[str, str]:
    """Instruction and response for one code task with its slot values."""
    what = fill(rng.choice(spec.whats), values)
    question = rng.choice(CODE_PHRASES["questions"]).format(what=what, tool=spec.tool)
    chosen = [fill(rng.choice(spec.notes), values)]
    if rng.random() < 0.35:
        chosen.append(rng.choice(CODE_PHRASES["generic_notes"][spec.lang]))
    note = rng.choice(CODE_PHRASES["note_leads"]) + " ".join(chosen)
    explanation = rng.choice(CODE_PHRASES["prefixes"]) + fill(rng.choice(spec.whys), values)
    code = fill(spec.code, values)
    response = f"{explanation}\n\n```{spec.lang}\n{code}\n```\n\n{note}"
    return question, response


# --------------------------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------------------------

NEAR_DUPLICATE_MAX = 0.38  # max word-bigram Jaccard between two pairs of the same topic/task
_TRIES_PER_KEY = 30
_WORD = re.compile(r"\w+")


def shingles(text: str) -> frozenset[str]:
    """Distinct case-folded word bigrams, as the pipeline's MinHash near-dedup uses them."""
    words = _WORD.findall(unicodedata.normalize("NFKC", text).casefold())
    if len(words) < 2:
        return frozenset(words)
    return frozenset(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """|a & b| / |a | b| (0 for two empty sets)."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


class PairRegistry:
    """Accepted pairs of all sources: rejects repeated responses and near duplicates.

    Pairs are compared within a group (one topic or one code task), where near duplicates
    arise; keeping them below ``NEAR_DUPLICATE_MAX`` leaves SCAR's MinHash near-dedup
    (threshold 0.5) nothing to find but the planted exact duplicates.
    """

    def __init__(self, max_similarity: float = NEAR_DUPLICATE_MAX) -> None:
        self.max_similarity = max_similarity
        self.responses: set[str] = set()
        self.groups: dict[str, list[frozenset[str]]] = {}

    def admit(self, group: str, prompt: str, response: str) -> bool:
        """Record the pair and return True unless it repeats or nearly repeats another."""
        if response in self.responses:
            return False
        candidate = shingles(f"{prompt}\n{response}")
        members = self.groups.setdefault(group, [])
        if any(jaccard(candidate, other) > self.max_similarity for other in members):
            return False
        members.append(candidate)
        self.responses.add(response)
        return True


@dataclass(frozen=True, slots=True)
class Candidate:
    """One generated pair before admission: its group, texts and style."""

    group: str
    style: str
    prompt: str
    response: str
    record: dict[str, str]


def _source_rng(seed: int, source: str) -> random.Random:
    """An independent stream per source, so editing one source never reshuffles another."""
    return random.Random(f"{seed}:{source}")


def _fits(style: str, text: str) -> bool:
    low, high = WORD_BOUNDS[style]
    return low <= word_count(text) <= high


def collect(
    rng: random.Random,
    count: int,
    keys: Sequence[int],
    make: Callable[[int], Candidate],
    registry: PairRegistry,
) -> list[Candidate]:
    """Draw ``count`` admissible pairs, visiting keys in reshuffled rounds.

    A key (topic or task) that yields no admissible pair in ``_TRIES_PER_KEY`` attempts is
    retired, so narrow tasks contribute fewer pairs instead of near copies.
    """
    rows: list[Candidate] = []
    prompts: set[str] = set()
    live = list(keys)
    order: list[int] = []
    while len(rows) < count:
        if not order:
            if not live:
                raise RuntimeError(f"only {len(rows)} of {count} diverse pairs could be made")
            order = list(live)
            rng.shuffle(order)
        key = order.pop()
        for _ in range(_TRIES_PER_KEY):
            candidate = make(key)
            if candidate.prompt in prompts or not _fits(candidate.style, candidate.response):
                continue
            if registry.admit(candidate.group, candidate.prompt, candidate.response):
                prompts.add(candidate.prompt)
                rows.append(candidate)
                break
        else:
            live.remove(key)
    return rows


def forum_candidate(rng: random.Random, index: int) -> Candidate:
    """One forum row for topic ``index`` as an Alpaca record."""
    topic = TOPICS[index]
    question = forum_question(rng, topic)
    roll = rng.random()
    context = rng.choice(FORUM_PHRASES["contexts"]) if roll >= 0.62 and rng.random() < 0.8 else None
    if roll < 0.85:
        instruction, extra = question, context[0] if context else ""
    else:
        instruction = rng.choice(FORUM_PHRASES["reply_prompts"])
        extra = f"{question} {context[0]}" if context else question
    output = render_forum(rng, topic, context[1] if context else None)
    prompt = f"{instruction}\n\n{extra}" if extra else instruction
    record = {"instruction": instruction, "input": extra, "output": output}
    return Candidate(f"topic:{index}", "forum", prompt, output, record)


def guide_candidate(rng: random.Random, index: int) -> Candidate:
    """One guide for topic ``index``."""
    topic = TOPICS[index]
    audience = rng.randrange(len(AUDIENCES))
    template = rng.randrange(len(GUIDE_QUESTIONS))
    mistakes_first = GUIDE_QUESTIONS[template].startswith("What mistakes")
    question = guide_question(rng, topic, audience, template)
    answer = render_guide(rng, topic, audience, mistakes_first)
    record = {"prompt": question, "response": answer}
    return Candidate(f"topic:{index}", "guide", question, answer, record)


def code_candidate(rng: random.Random, index: int) -> Candidate:
    """One snippet for code task ``index``."""
    spec = CODE_TASKS[index]
    question, answer = render_code(rng, spec, code_values(rng, spec, rng.choice(DATASETS)))
    record = {"prompt": question, "response": answer}
    return Candidate(f"task:{index}", "code", question, answer, record)


def build_forum(seed: int, registry: PairRegistry) -> list[dict[str, str]]:
    """Clean forum rows as Alpaca records (``instruction``, ``input``, ``output``)."""
    rng = _source_rng(seed, FORUM)
    keys = range(len(TOPICS))
    rows = collect(rng, FORUM_COUNT, keys, lambda i: forum_candidate(rng, i), registry)
    return [row.record for row in rows]


def build_guides(seed: int, registry: PairRegistry) -> list[tuple[str, str]]:
    """Clean (question, answer) guide pairs."""
    rng = _source_rng(seed, GUIDES)
    keys = range(len(TOPICS))
    rows = collect(rng, GUIDE_COUNT, keys, lambda i: guide_candidate(rng, i), registry)
    return [(row.prompt, row.response) for row in rows]


def build_code(seed: int, registry: PairRegistry) -> list[tuple[str, str]]:
    """Clean (prompt, response) code pairs, tasks spread evenly."""
    rng = _source_rng(seed, CODE)
    keys = range(len(CODE_TASKS))
    rows = collect(rng, CODE_COUNT, keys, lambda i: code_candidate(rng, i), registry)
    return [(row.prompt, row.response) for row in rows]


def build_mixed(seed: int, registry: PairRegistry) -> list[tuple[str, str, str]]:
    """(style, prompt, response) rows, a third of each style, in shuffled order."""
    rng = _source_rng(seed, MIXED)
    makers: tuple[tuple[Callable[[random.Random, int], Candidate], int], ...] = (
        (forum_candidate, len(TOPICS)),
        (guide_candidate, len(TOPICS)),
        (code_candidate, len(CODE_TASKS)),
    )
    rows: list[Candidate] = []
    share = MIXED_COUNT // len(makers)
    for make, n_keys in makers:
        keys = rng.sample(range(n_keys), min(n_keys, 2 * share))
        rows += collect(rng, share, keys, lambda i, make=make: make(rng, i), registry)
    rng.shuffle(rows)
    return [(row.style, row.prompt, row.response) for row in rows]


# --------------------------------------------------------------------------------------------
# Planted dirty rows (forum_answers only)
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Planted:
    """One deliberately dirty forum line: where it is and what is wrong with it."""

    file: str
    line: int
    kind: str
    detail: str
    duplicate_of: tuple[str, int] | None = None


PLANTED: tuple[Planted, ...] = (
    Planted("part-000.jsonl", 41, "malformed_json", "the line is cut off mid-string"),
    Planted("part-000.jsonl", 77, "empty_output", '"output" is the empty string'),
    Planted("part-000.jsonl", 103, "duplicate", "exact copy of line 12", ("part-000.jsonl", 12)),
    Planted("part-001.jsonl", 19, "missing_output", 'the "output" field is missing'),
    Planted(
        "part-001.jsonl",
        58,
        "duplicate",
        "same pair as part-000.jsonl line 30, written without the empty input key",
        ("part-000.jsonl", 30),
    ),
    Planted("part-001.jsonl", 86, "non_english", "Russian answer to an English question"),
)


def _json_line(record: dict[str, str]) -> str:
    return json.dumps(record, ensure_ascii=False)


def _without_empty_input(record: dict[str, str]) -> dict[str, str]:
    return {key: value for key, value in record.items() if key != "input" or value}


def forum_files(rows: list[dict[str, str]]) -> dict[str, list[str]]:
    """Split clean rows over the two files and insert the planted lines at their positions."""
    half = len(rows) // 2
    first, second = list(rows[:half]), list(rows[half:])
    dup_index = 30 - 1  # the cross-file duplicate needs an empty input; swap one in if not
    if first[dup_index]["input"]:
        swap = next(i for i in range(dup_index + 1, half) if not first[i]["input"])
        first[dup_index], first[swap] = first[swap], first[dup_index]
    lines = {
        FORUM_FILES[0]: [_json_line(row) for row in first],
        FORUM_FILES[1]: [_json_line(_without_empty_input(row)) for row in second],
    }
    texts = PHRASES["planted"]
    by_kind = {
        "malformed_json": texts["malformed_line"],
        "empty_output": _json_line(texts["empty_output"]),
        "missing_output": _json_line(texts["missing_output"]),
        "non_english": _json_line(texts["non_english"]),
    }
    for planted in sorted(PLANTED, key=lambda p: (p.file, p.line)):
        if planted.duplicate_of is not None:
            file, line = planted.duplicate_of
            record = json.loads(lines[file][line - 1])
            if file != planted.file:
                record = _without_empty_input(record)
            text = _json_line(record)
        else:
            text = by_kind[planted.kind]
        lines[planted.file].insert(planted.line - 1, text)
    return lines


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    return path


def write_parquet(path: Path, prompts: list[str], responses: list[str]) -> Path:
    """Parquet with fixed settings (one row group, snappy, no statistics) for stable bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.table(
        {
            "prompt": pa.array(prompts, type=pa.string()),
            "response": pa.array(responses, type=pa.string()),
        }
    )
    pq.write_table(
        table,
        path,
        row_group_size=max(len(prompts), 1),
        compression="snappy",
        use_dictionary=False,
        write_statistics=False,
        data_page_version="1.0",
        version="2.6",
    )
    return path


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts reported in the README and by the CLI."""

    seed: int
    forum_lines: dict[str, int]
    forum_with_input: int
    guides: int
    code: int
    mixed: dict[str, int]


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)


def _sources_table(summary: Summary) -> str:
    """One row per source: format, files, rows and style."""
    forum_total = sum(summary.forum_lines.values())
    forum_files = ", ".join(f"`{name}` ({n} lines)" for name, n in summary.forum_lines.items())
    mixed_split = ", ".join(f"{n} {style}" for style, n in summary.mixed.items())
    bounds = {style: f"{low}-{high} words" for style, (low, high) in WORD_BOUNDS.items()}
    return _table(
        ["source", "format", "file(s)", "rows", "style"],
        [
            [
                f"`{FORUM}`",
                "Alpaca JSONL (`instruction`, `input`, `output`)",
                forum_files,
                f"{forum_total} lines: {FORUM_COUNT} clean + {len(PLANTED)} planted",
                f"terse human forum answers, {bounds['forum']}: lowercase, abbreviations, "
                "a few typos, no markdown",
            ],
            [
                f"`{GUIDES}`",
                "ShareGPT/Vicuna JSON array (`id`, `conversations`: `from` human/gpt, `value`)",
                f"`{GUIDE_FILE}`",
                summary.guides,
                f"structured assistant guides, {bounds['guide']}: intro line, `##` headers, "
                "lists, **bold** terms, summary sentence",
            ],
            [
                f"`{CODE}`",
                "Parquet (`prompt`, `response`)",
                f"`{CODE_FILE}`",
                summary.code,
                f"programming Q&A, {bounds['code']}: one explanation sentence, a fenced "
                "`python`/`bash`/`sql` block, a short note",
            ],
            [
                f"`{MIXED}`",
                "JSONL (`prompt`, `response`)",
                f"`{MIXED_FILE}`",
                sum(summary.mixed.values()),
                f"the three styles mixed in one source ({mixed_split})",
            ],
        ],
    )


def readme(summary: Summary) -> str:
    """The data/sample/README.md text, from ``sample_banks/sample_readme.template.md``."""
    template = (BANKS / "sample_readme.template.md").read_text(encoding="utf-8")
    planted = _table(
        ["file", "line", "kind", "detail"],
        [[f"`{FORUM}/{p.file}`", p.line, f"`{p.kind}`", p.detail] for p in PLANTED],
    )
    return template.format(
        seed=summary.seed,
        sources=_sources_table(summary),
        planted=planted,
        forum=FORUM,
        forum_file_0=FORUM_FILES[0],
        forum_file_1=FORUM_FILES[1],
        forum_count=FORUM_COUNT,
        with_input=summary.forum_with_input,
        near_duplicate_max=NEAR_DUPLICATE_MAX,
        forum_total=sum(summary.forum_lines.values()),
        kept=FORUM_COUNT + 1,
    )


def generate(out: Path, seed: int = DEFAULT_SEED) -> list[Path]:
    """Write every sample file under ``out`` and return their paths."""
    registry = PairRegistry()
    forum_rows = build_forum(seed, registry)
    guide_pairs = build_guides(seed, registry)
    code_pairs = build_code(seed, registry)
    mixed_rows = build_mixed(seed, registry)

    written: list[Path] = []
    for name, lines in forum_files(forum_rows).items():
        written.append(_write_text(out / FORUM / name, "\n".join(lines) + "\n"))
    guides = [
        {
            "id": f"guide-{i:04d}",
            "conversations": [{"from": "human", "value": q}, {"from": "gpt", "value": a}],
        }
        for i, (q, a) in enumerate(guide_pairs, start=1)
    ]
    guides_text = json.dumps(guides, ensure_ascii=False, indent=2) + "\n"
    written.append(_write_text(out / GUIDES / GUIDE_FILE, guides_text))
    written.append(
        write_parquet(
            out / CODE / CODE_FILE, [q for q, _ in code_pairs], [a for _, a in code_pairs]
        )
    )
    mixed_text = "".join(
        _json_line({"prompt": prompt, "response": response}) + "\n"
        for _, prompt, response in mixed_rows
    )
    written.append(_write_text(out / MIXED / MIXED_FILE, mixed_text))

    counts = {style: sum(1 for s, _, _ in mixed_rows if s == style) for style in WORD_BOUNDS}
    forum_lines = {
        name: (out / FORUM / name).read_text(encoding="utf-8").count("\n") for name in FORUM_FILES
    }
    with_input = sum(1 for row in forum_rows if row["input"])
    summary = Summary(seed, forum_lines, with_input, len(guide_pairs), len(code_pairs), counts)
    written.append(_write_text(out / "README.md", readme(summary)))
    return written


def main(argv: Sequence[str] | None = None) -> None:
    """CLI entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    args = parser.parse_args(argv)
    for path in generate(args.out, args.seed):
        print(path)


if __name__ == "__main__":
    main()
