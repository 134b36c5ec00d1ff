"""Prompt templates: our defaults, a TOML file or a folder, the toolkit's placeholder spelling,
and a clear error for every malformed prompt file."""

from __future__ import annotations

from pathlib import Path

import pytest

from scar_dagster.llm.prompt_files import load_prompts
from scar_dagster.llm.prompts import (
    DEFAULT_PROMPTS,
    TEMPLATE_NAMES,
    PromptError,
    PromptSet,
    PromptTemplate,
    direct_messages,
    referenced_messages,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "data" / "ranker" / "prompts"
TEMPLATES = {
    "direct": ("Answer: {instruction}", None),
    "referenced": ("Q: {instruction}\nReference: {human}", "Be brief."),
    "helpfulness": ("Helpfulness of {response} for {instruction}?", None),
    "correctness": ("Correctness of {response} for {instruction}?", "Judge."),
}


def _toml(templates: dict[str, tuple[str, str | None]]) -> str:
    out = []
    for name, (user, system) in templates.items():
        out.append(f"[{name}]\nuser = '''{user}'''\n")
        if system is not None:
            out.append(f"system = '''{system}'''\n")
    return "".join(out)


def _write_toml(path: Path, templates=TEMPLATES) -> Path:
    path.write_text(_toml(templates), encoding="utf-8")
    return path


def _write_folder(folder: Path, templates=TEMPLATES) -> Path:
    folder.mkdir()
    for name, (user, system) in templates.items():
        (folder / f"{name}.txt").write_text(user, encoding="utf-8")
        if system is not None:
            (folder / f"{name}.system.txt").write_text(system, encoding="utf-8")
    return folder


def test_default_prompts_are_ours_with_a_system_message_and_a_score_line():
    direct = direct_messages("How do I boil an egg?")
    assert direct == [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "How do I boil an egg?"},
    ]
    referenced = referenced_messages("Boil an egg?", "six minutes")[-1]["content"]
    assert "six minutes" in referenced and "Boil an egg?" in referenced
    for aspect in ("helpfulness", "correctness"):
        system, user = DEFAULT_PROMPTS.messages(
            aspect, instruction="Boil an egg?", response="six minutes"
        )
        assert system["role"] == "system" and user["content"].startswith("Rate the answer")
        assert f"for {aspect}:" in user["content"] and "`Score: N`" in user["content"]
    assert DEFAULT_PROMPTS.label == "default"
    assert DEFAULT_PROMPTS.origin == "ours (after the paper's design)"
    with pytest.raises(ValueError, match="unknown template"):
        DEFAULT_PROMPTS.messages("style", instruction="q", response="a")


def test_toml_file_and_folder_give_the_same_prompt_set(tmp_path):
    from_toml = load_prompts(_write_toml(tmp_path / "prompts.toml"))
    from_folder = load_prompts(_write_folder(tmp_path / "prompts"))
    assert from_toml.fingerprint == from_folder.fingerprint != DEFAULT_PROMPTS.fingerprint
    assert from_toml.origin == str(tmp_path / "prompts.toml")
    assert from_toml.label == f"{from_toml.fingerprint} ({tmp_path / 'prompts.toml'})"
    assert from_toml.messages("direct", instruction="Tie a tie?") == [
        {"role": "user", "content": "Answer: Tie a tie?"}  # no system message when none given
    ]
    assert from_folder.messages("referenced", instruction="Q?", human="A.") == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Q: Q?\nReference: A."},
    ]
    assert direct_messages("Q?", from_toml) == from_toml.messages("direct", instruction="Q?")


def test_toolkit_placeholder_spelling_fills_the_same_values(tmp_path):
    templates = {
        **TEMPLATES,
        "referenced": ("{reference_answer} / {instruction}", None),
        "helpfulness": ("Instruction: {PROBLEM}\n\nResponse: {OUTPUT}", None),
        "correctness": ("{PROBLEM} {response} {OUTPUT}", None),  # both spellings may mix
    }
    prompts = load_prompts(_write_toml(tmp_path / "p.toml", templates))
    assert prompts.messages("referenced", instruction="Q?", human="A.")[0]["content"] == "A. / Q?"
    (help_,) = prompts.messages("helpfulness", instruction="Q?", response="A.")
    assert help_["content"] == "Instruction: Q?\n\nResponse: A."
    (correct,) = prompts.messages("correctness", instruction="Q?", response="A.")
    assert correct["content"] == "Q? A. A."


def test_braces_in_the_texts_are_never_read_as_placeholders(tmp_path):
    prompts = load_prompts(_write_toml(tmp_path / "p.toml"))
    (message,) = prompts.messages("direct", instruction="print({human}) and {{x}}")
    assert message["content"] == "Answer: print({human}) and {{x}}"
    literal = {**TEMPLATES, "direct": ("Use {{braces}} for {instruction}", None)}
    prompts = load_prompts(_write_toml(tmp_path / "q.toml", literal))
    assert prompts.messages("direct", instruction="x")[0]["content"] == "Use {braces} for x"


def test_the_shipped_example_has_the_toolkits_structure_in_our_words():
    prompts = load_prompts(EXAMPLE / "toolkit_structure.toml")
    for name in TEMPLATE_NAMES:
        assert getattr(prompts, name).system is None  # the toolkit sends one user message
    referenced = prompts.messages("referenced", instruction="Q?", human="A.")[0]["content"]
    headings = ["### Reference Answer:", "### Background:", "### Instruction:", "### Response:"]
    assert [referenced.index(h) for h in headings] == sorted(referenced.index(h) for h in headings)
    for aspect, title in (("helpfulness", "Helpfulness"), ("correctness", "Correctness")):
        text = prompts.messages(aspect, instruction="Q?", response="A.")[0]["content"]
        assert f"Final {title} Score (0-9):" in text and "Instruction: Q?" in text
        assert "8-9:" in text and "0-1:" in text


def _broken(tmp_path: Path, name: str, **changes: tuple[str, str | None]) -> Path:
    return _write_toml(tmp_path / name, {**TEMPLATES, **changes})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"direct": ("Answer {question}", None)}, r"unknown placeholder\(s\) \{question\}"),
        ({"direct": ("Answer {instruction}", "Hi {name}")}, r"system message.*\{name\}"),
        ({"referenced": ("Answer {instruction}", None)}, r"never uses human.*\{reference_answer\}"),
        ({"helpfulness": ("Rate {response}", None)}, r"never uses instruction: add \{instruc"),
        ({"direct": ("   ", None)}, "user message is empty"),
        ({"direct": ("Answer {instruction", None)}, r"write a literal brace as \{\{"),
        ({"direct": ("Answer {instruction!r}", None)}, "format spec or conversion"),
        ({"direct": ("Answer {}", None)}, r"unknown placeholder\(s\) \{\}"),
        ({"direct": ("Answer {instruction.upper}", None)}, "unknown placeholder"),
    ],
)
def test_a_bad_template_is_a_clear_error_naming_the_file_and_template(tmp_path, change, message):
    path = _broken(tmp_path, "p.toml", **change)
    with pytest.raises(PromptError, match=message) as error:
        load_prompts(path)
    assert str(path) in str(error.value) and f"'{next(iter(change))}'" in str(error.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (_toml({k: v for k, v in TEMPLATES.items() if k != "correctness"}), r"missing template"),
        (_toml(TEMPLATES) + "[style]\nuser = 'x'\n", r"unknown table\(s\) \['style'\]"),
        (_toml(TEMPLATES) + "[direct.extra]\n", r"unknown key\(s\) \['extra'\]"),
        (_toml(TEMPLATES).replace("[direct]\nuser", "[direct]\nprompt"), "unknown key"),
        (
            "direct = 'x'\n" + _toml({k: v for k, v in TEMPLATES.items() if k != "direct"}),
            r"\[direct\] must be a table",
        ),
        (_toml(TEMPLATES).replace("user = '''Answer: {instruction}'''", "user = 3"), "string"),
        ("[direct\n", "not a valid UTF-8 TOML"),
    ],
)
def test_a_malformed_toml_file_is_a_clear_error(tmp_path, text, message):
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PromptError, match=message):
        load_prompts(path)


def test_a_malformed_folder_is_a_clear_error(tmp_path):
    folder = _write_folder(tmp_path / "p")
    (folder / "correctness.txt").unlink()
    with pytest.raises(PromptError, match=r"missing template correctness.txt"):
        load_prompts(folder)
    (folder / "correctness.txt").write_text("{instruction} {response}")
    (folder / "helpfullness.txt").write_text("typo")
    with pytest.raises(PromptError, match=r"unknown template file\(s\) \['helpfullness.txt'\]"):
        load_prompts(folder)
    (folder / "helpfullness.txt").unlink()
    (folder / "README.md").write_text("notes are ignored")
    (folder / "direct.txt").write_bytes(b"\xff\xfe{instruction}")
    with pytest.raises(PromptError, match="not UTF-8"):
        load_prompts(folder)
    with pytest.raises(PromptError, match="no such file or folder"):
        load_prompts(tmp_path / "missing")


def test_a_prompt_set_built_in_code_is_validated_too():
    good = {name: PromptTemplate(user) for name, (user, _) in TEMPLATES.items()}
    assert PromptSet(**good).messages("direct", instruction="x")[0]["content"] == "Answer: x"
    with pytest.raises(PromptError, match="never uses human"):
        PromptSet(**{**good, "referenced": PromptTemplate("{instruction}")})
    with pytest.raises(ValueError, match="unknown template"):
        PromptSet(**good).messages("style", instruction="x")
