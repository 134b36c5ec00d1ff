"""The four prompt templates of training data: two to generate answers, two to judge them.

- ``direct``: the model answers the instruction (placeholder ``{instruction}``).
- ``referenced``: the model answers the instruction with the human answer as a reference whose
  content it keeps (``{instruction}``, ``{human}``).
- ``helpfulness``, ``correctness``: one aspect's 0-9 rating of a response, reasoning first
  (``{instruction}``, ``{response}``); the quality is the mean of the two.

Each template is a user message and an optional system message. :data:`DEFAULT_PROMPTS` are
*our prompts after the paper's design* (arXiv 2406.10882, section 3), not the SCAR toolkit's
own: ours are short, with a system message, and end the rating with ``Score: N``; the toolkit's
(``style_ranker/consts.py``) are long rubric prompts with no system message. Run the toolkit's
prompts, or yours, from a file with ``scar_dagster.llm.prompt_files.load_prompts``. A template
may spell a value the toolkit's way too (``{reference_answer}`` for ``{human}``, ``{PROBLEM}``
and ``{OUTPUT}`` for ``{instruction}`` and ``{response}``), so its text can be pasted as it is.
Literal braces are written ``{{`` and ``}}``.
"""

from __future__ import annotations

import hashlib
import json
import string
from dataclasses import asdict, dataclass

from scar_dagster.llm.types import Message

GENERATION_TEMPLATES: tuple[str, ...] = ("direct", "referenced")
JUDGE_ASPECTS: tuple[str, ...] = ("helpfulness", "correctness")
TEMPLATE_NAMES: tuple[str, ...] = (*GENERATION_TEMPLATES, *JUDGE_ASPECTS)
_JUDGED = {"instruction": ("instruction", "PROBLEM"), "response": ("response", "OUTPUT")}
# Per template: each value it must use -> the placeholder names that spell it (ours first).
PLACEHOLDERS: dict[str, dict[str, tuple[str, ...]]] = {
    "direct": {"instruction": ("instruction",)},
    "referenced": {"instruction": ("instruction",), "human": ("human", "reference_answer")},
    "helpfulness": _JUDGED,
    "correctness": _JUDGED,
}


class PromptError(ValueError):
    """A prompt template is missing, empty or uses a placeholder it may not; says which."""


def placeholders(text: str) -> list[str]:
    """The placeholder names in ``text`` (``str.format`` syntax), in order of appearance."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as error:
        raise PromptError(f"{error}; write a literal brace as {{{{ or }}}}") from error
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion:
            raise PromptError(f"placeholder {{{name}}} has a format spec or conversion")
        names.append(name)
    return names


@dataclass(frozen=True)
class PromptTemplate:
    """One template: the user message and an optional system message (``None``: none)."""

    user: str
    system: str | None = None

    def check(self, name: str) -> None:
        """Raise :class:`PromptError` unless the template suits ``name``'s placeholders."""
        allowed = PLACEHOLDERS[name]
        spelled = {alias: value for value, aliases in allowed.items() for alias in aliases}
        if not self.user.strip():
            raise PromptError(f"template {name!r}: the user message is empty")
        used = set()
        for part, text in (("user", self.user), ("system", self.system or "")):
            try:
                found = placeholders(text)
            except PromptError as error:
                raise PromptError(f"template {name!r} ({part} message): {error}") from None
            unknown = sorted({p for p in found if p not in spelled})
            if unknown:
                raise PromptError(
                    f"template {name!r} ({part} message): unknown placeholder(s) "
                    f"{', '.join('{' + p + '}' for p in unknown)}; it may use "
                    f"{', '.join('{' + p + '}' for p in spelled)}"
                )
            used.update(spelled[p] for p in found)
        missing = [value for value in allowed if value not in used]
        if missing:
            raise PromptError(
                f"template {name!r} never uses {', '.join(missing)}: add "
                + " and ".join(" or ".join("{" + a + "}" for a in allowed[v]) for v in missing)
            )

    def messages(self, name: str, values: dict[str, str]) -> list[Message]:
        """The chat messages with ``values`` (keyed by value name) filled in."""
        spelled = {a: values[v] for v, aliases in PLACEHOLDERS[name].items() for a in aliases}
        out: list[Message] = []
        if self.system is not None:
            out.append({"role": "system", "content": self.system.format_map(spelled)})
        out.append({"role": "user", "content": self.user.format_map(spelled)})
        return out


@dataclass(frozen=True)
class PromptSet:
    """The four templates, validated on construction; ``origin`` says where they came from."""

    direct: PromptTemplate
    referenced: PromptTemplate
    helpfulness: PromptTemplate
    correctness: PromptTemplate
    origin: str = "ours (after the paper's design)"

    def __post_init__(self) -> None:
        for name in TEMPLATE_NAMES:
            getattr(self, name).check(name)

    def messages(self, name: str, **values: str) -> list[Message]:
        """The messages of template ``name`` (one of ``TEMPLATE_NAMES``) for ``values``."""
        if name not in TEMPLATE_NAMES:
            raise ValueError(f"unknown template {name!r}: use one of {TEMPLATE_NAMES}")
        return getattr(self, name).messages(name, values)

    @property
    def fingerprint(self) -> str:
        """sha256 (12 hex) of the templates' text: the identity of this prompt set."""
        texts = {name: asdict(getattr(self, name)) for name in TEMPLATE_NAMES}
        return hashlib.sha256(json.dumps(texts, sort_keys=True).encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        """``default`` for :data:`DEFAULT_PROMPTS`, else ``<fingerprint> (<origin>)``."""
        if self.fingerprint == DEFAULT_PROMPTS.fingerprint:
            return "default"
        return f"{self.fingerprint} ({self.origin})"


_ASSISTANT = "You are a helpful assistant."
_JUDGE_SYSTEM = "You are a strict, fair evaluator of answers to instructions."
_REFERENCED = (
    "Answer the following instruction.\n\n"
    "Instruction:\n{instruction}\n\n"
    "Here is a reference answer written by a person:\n{human}\n\n"
    "Use the reference as your source: keep its content and meaning, add no facts it does not "
    "support, but write the answer the way you would naturally answer the instruction yourself. "
    "Reply with the answer only; do not mention the reference."
)
_ASPECT_TEXT = {
    "helpfulness": (
        "helpfulness: how well the answer addresses what the instruction asks, is complete "
        "and useful to the person who asked (0 = useless or off-topic, 9 = fully helpful)"
    ),
    "correctness": (
        "correctness: whether what the answer states is accurate and free of errors "
        "(0 = wrong or nonsensical, 9 = entirely correct)"
    ),
}


def _judge_template(aspect: str) -> PromptTemplate:
    user = (
        f"Rate the answer below for {_ASPECT_TEXT[aspect]}.\n\n"
        "Instruction:\n{instruction}\n\n"
        "Answer:\n{response}\n\n"
        "First give a short reasoning of one or two sentences. Then end with a final line of the "
        "form `Score: N`, where N is an integer from 0 to 9."
    )
    return PromptTemplate(user, _JUDGE_SYSTEM)


DEFAULT_PROMPTS = PromptSet(
    direct=PromptTemplate("{instruction}", _ASSISTANT),
    referenced=PromptTemplate(_REFERENCED, _ASSISTANT),
    helpfulness=_judge_template("helpfulness"),
    correctness=_judge_template("correctness"),
)


def direct_messages(instruction: str, prompts: PromptSet | None = None) -> list[Message]:
    """The model answers the instruction (``prompts``: default :data:`DEFAULT_PROMPTS`)."""
    return (prompts or DEFAULT_PROMPTS).messages("direct", instruction=instruction)


def referenced_messages(
    instruction: str, human: str, prompts: PromptSet | None = None
) -> list[Message]:
    """The model answers the instruction with the human answer as its reference."""
    return (prompts or DEFAULT_PROMPTS).messages("referenced", instruction=instruction, human=human)
