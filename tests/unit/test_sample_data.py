"""The bundled sample under data/sample/: reproducible, formats as documented, styles distinct."""

from __future__ import annotations

import importlib.util
import json
import re
import statistics
import sys
from pathlib import Path
from types import ModuleType

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "generate_sample_data.py"
COMMITTED = ROOT / "data" / "sample"


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_sample_data", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    gen.generate(out, gen.DEFAULT_SEED)
    return out


def _files(root: Path) -> dict[str, Path]:
    return {str(p.relative_to(root)): p for p in sorted(root.rglob("*")) if p.is_file()}


def _same_parquet(a: Path, b: Path) -> bool:
    """Byte equality, or equal tables when the files come from another pyarrow version."""
    if a.read_bytes() == b.read_bytes():
        return True
    written_by = pq.ParquetFile(a).metadata.created_by
    if pa.__version__ in written_by:
        return False
    return pq.read_table(a).equals(pq.read_table(b))


# ------------------------------------------------------------------ reproducibility


def test_committed_sample_matches_generator(regenerated: Path) -> None:
    committed, fresh = _files(COMMITTED), _files(regenerated)
    assert sorted(committed) == sorted(fresh), "run scripts/generate_sample_data.py"
    for name, path in fresh.items():
        if name.endswith(".parquet"):
            assert _same_parquet(committed[name], path), name
        else:
            assert committed[name].read_bytes() == path.read_bytes(), name


def test_generation_is_deterministic(regenerated: Path, tmp_path: Path) -> None:
    gen.generate(tmp_path, gen.DEFAULT_SEED)
    fresh = _files(tmp_path)
    assert {n: p.read_bytes() for n, p in fresh.items()} == {
        n: p.read_bytes() for n, p in _files(regenerated).items()
    }


def test_other_seed_gives_other_data(regenerated: Path, tmp_path: Path) -> None:
    gen.generate(tmp_path, gen.DEFAULT_SEED + 1)
    name = f"{gen.GUIDES}/{gen.GUIDE_FILE}"
    assert (tmp_path / name).read_bytes() != (regenerated / name).read_bytes()


# ------------------------------------------------------------------ formats and counts


def _forum_lines() -> dict[str, list[str]]:
    folder = COMMITTED / gen.FORUM
    return {
        name: (folder / name).read_text(encoding="utf-8").splitlines() for name in gen.FORUM_FILES
    }


def _planted(kind: str) -> list:
    return [p for p in gen.PLANTED if p.kind == kind]


def _pair_key(record: dict[str, str]) -> tuple[str, str, str]:
    return record["instruction"], record.get("input", ""), record["output"]


def test_forum_is_alpaca_jsonl_in_two_files() -> None:
    lines = _forum_lines()
    planted_at = {(p.file, p.line) for p in gen.PLANTED}
    clean = 0
    for name, file_lines in lines.items():
        for number, line in enumerate(file_lines, start=1):
            if (name, number) in planted_at:
                continue
            record = json.loads(line)
            assert isinstance(record["instruction"], str) and record["instruction"].strip()
            assert isinstance(record["output"], str) and record["output"].strip()
            if name == gen.FORUM_FILES[0]:
                assert set(record) == {"instruction", "input", "output"}
            else:
                assert record.get("input", "x") != "", "part-001 omits an empty input"
            clean += 1
    assert clean == gen.FORUM_COUNT
    assert sum(len(v) for v in lines.values()) == gen.FORUM_COUNT + len(gen.PLANTED)
    assert len(gen.PLANTED) < 10


def test_planted_rows_are_where_documented() -> None:
    lines = _forum_lines()

    def at(planted) -> str:
        return lines[planted.file][planted.line - 1]

    (malformed,) = _planted("malformed_json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(at(malformed))
    (empty,) = _planted("empty_output")
    assert json.loads(at(empty))["output"] == ""
    (missing,) = _planted("missing_output")
    assert "output" not in json.loads(at(missing))
    (foreign,) = _planted("non_english")
    output = json.loads(at(foreign))["output"]
    letters = [c for c in output if c.isalpha()]
    assert sum(c.isascii() for c in letters) / len(letters) < 0.7

    duplicates = _planted("duplicate")
    assert len(duplicates) == 2
    for planted in duplicates:
        file, line = planted.duplicate_of
        assert _pair_key(json.loads(at(planted))) == _pair_key(json.loads(lines[file][line - 1]))
    # one of the duplicates differs in bytes (no empty input key) but not in content
    assert any(at(p) != lines[p.duplicate_of[0]][p.duplicate_of[1] - 1] for p in duplicates)


def test_readme_lists_every_planted_row() -> None:
    text = (COMMITTED / "README.md").read_text(encoding="utf-8")
    for planted in gen.PLANTED:
        assert f"`{gen.FORUM}/{planted.file}` | {planted.line} | `{planted.kind}`" in text


def test_guides_are_a_sharegpt_array() -> None:
    records = json.loads((COMMITTED / gen.GUIDES / gen.GUIDE_FILE).read_text(encoding="utf-8"))
    assert isinstance(records, list) and len(records) == gen.GUIDE_COUNT
    assert len({r["id"] for r in records}) == len(records)
    for record in records:
        roles = [turn["from"] for turn in record["conversations"]]
        assert roles == ["human", "gpt"]
        assert all(turn["value"].strip() for turn in record["conversations"])


def test_code_is_parquet_with_prompt_and_response() -> None:
    table = pq.read_table(COMMITTED / gen.CODE / gen.CODE_FILE)
    assert table.column_names == ["prompt", "response"]
    assert table.num_rows == gen.CODE_COUNT
    assert all(pa.types.is_string(field.type) for field in table.schema)


def test_mixed_is_prompt_response_jsonl() -> None:
    path = COMMITTED / gen.MIXED / gen.MIXED_FILE
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(records) == gen.MIXED_COUNT
    assert all(set(r) == {"prompt", "response"} for r in records)


# ------------------------------------------------------------------ content


def _clean_pairs() -> dict[str, list[tuple[str, str]]]:
    """(prompt, response) per source, planted rows excluded, Alpaca input appended."""
    planted_at = {(p.file, p.line) for p in gen.PLANTED}
    forum = []
    for name, file_lines in _forum_lines().items():
        for number, line in enumerate(file_lines, start=1):
            if (name, number) not in planted_at:
                record = json.loads(line)
                extra = record.get("input", "")
                prompt = f"{record['instruction']}\n\n{extra}" if extra else record["instruction"]
                forum.append((prompt, record["output"]))
    guides = [
        (r["conversations"][0]["value"], r["conversations"][1]["value"])
        for r in json.loads((COMMITTED / gen.GUIDES / gen.GUIDE_FILE).read_text("utf-8"))
    ]
    table = pq.read_table(COMMITTED / gen.CODE / gen.CODE_FILE).to_pydict()
    code = list(zip(table["prompt"], table["response"], strict=True))
    mixed_path = COMMITTED / gen.MIXED / gen.MIXED_FILE
    mixed = [
        (r["prompt"], r["response"])
        for r in map(json.loads, mixed_path.read_text(encoding="utf-8").splitlines())
    ]
    return {gen.FORUM: forum, gen.GUIDES: guides, gen.CODE: code, gen.MIXED: mixed}


STYLE_OF = {gen.FORUM: "forum", gen.GUIDES: "guide", gen.CODE: "code"}


def _style(response: str) -> str:
    if "```" in response:
        return "code"
    return "guide" if "\n## " in response else "forum"


def test_response_lengths_within_documented_bounds() -> None:
    for source, pairs in _clean_pairs().items():
        for _, response in pairs:
            style = STYLE_OF.get(source) or _style(response)
            low, high = gen.WORD_BOUNDS[style]
            assert low <= len(response.split()) <= high, (source, response[:80])


def test_no_accidental_duplicates() -> None:
    sources = _clean_pairs()
    responses = [r for pairs in sources.values() for _, r in pairs]
    assert len(set(responses)) == len(responses)
    for pairs in sources.values():
        prompts = [p for p, _ in pairs]
        assert len(set(prompts)) == len(prompts)


def test_no_near_duplicates_within_a_source() -> None:
    for source, pairs in _clean_pairs().items():
        sets = [gen.shingles(f"{p}\n{r}") for p, r in pairs]
        worst = max(gen.jaccard(a, b) for i, a in enumerate(sets) for b in sets[i + 1 :])
        assert worst < 0.45, source


def _share(pairs: list[tuple[str, str]], pattern: str) -> float:
    regex = re.compile(pattern, re.MULTILINE)
    return sum(bool(regex.search(r)) for _, r in pairs) / len(pairs)


def test_styles_differ_measurably() -> None:
    sources = _clean_pairs()
    mean_words = {s: statistics.mean(len(r.split()) for _, r in p) for s, p in sources.items()}
    assert mean_words[gen.FORUM] < 45 < mean_words[gen.CODE] < 90 < mean_words[gen.GUIDES]

    lists, fences, headers = r"^(- |\d+\. )", r"^```", r"^## "
    forum, guides, code = sources[gen.FORUM], sources[gen.GUIDES], sources[gen.CODE]
    assert _share(forum, lists) == _share(forum, fences) == _share(forum, headers) == 0
    assert _share(forum, r"\*\*") == 0
    assert _share(guides, lists) == _share(guides, headers) == _share(guides, r"\*\*") == 1
    assert _share(guides, fences) == 0
    assert _share(code, fences) == 1 and _share(code, headers) == 0
    assert {re.search(r"```(\w+)", r).group(1) for _, r in code} == {"python", "bash", "sql"}
    # forum answers are informal: mostly lowercase, with abbreviations
    assert _share(forum, r"^[a-z]") > 0.7
    assert _share(forum, r"\b(imo|afaik|tbh|fwiw|u|ur|bc|ppl)\b") > 0.3

    mixed_styles = [_style(r) for _, r in sources[gen.MIXED]]
    assert {s: mixed_styles.count(s) for s in set(mixed_styles)} == {
        "forum": gen.MIXED_COUNT // 3,
        "guide": gen.MIXED_COUNT // 3,
        "code": gen.MIXED_COUNT // 3,
    }
