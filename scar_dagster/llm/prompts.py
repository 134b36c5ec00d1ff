"""Prompts of SCAR's data design (arXiv 2406.10882, section 3), written for this project.

- *direct*: the model answers the instruction as a helpful assistant would.
- *referenced*: the model answers the instruction itself, with the human answer as a reference
  whose content and meaning it keeps, in its own natural way of answering (not a rewrite of
  the text).
- *judge*: helpfulness and correctness are rated separately, 0-9, a short reasoning first and
  a final ``Score: N`` line; the quality is their mean.
"""

from __future__ import annotations

from scar_dagster.llm.types import Message

ASSISTANT_SYSTEM = "You are a helpful assistant."

REFERENCED_TEMPLATE = (
    "Answer the following instruction.\n\n"
    "Instruction:\n{instruction}\n\n"
    "Here is a reference answer written by a person:\n{human}\n\n"
    "Use the reference as your source: keep its content and meaning, add no facts it does not "
    "support, but write the answer the way you would naturally answer the instruction yourself. "
    "Reply with the answer only; do not mention the reference."
)

JUDGE_SYSTEM = "You are a strict, fair evaluator of answers to instructions."

JUDGE_ASPECTS: dict[str, str] = {
    "helpfulness": (
        "helpfulness: how well the answer addresses what the instruction asks, is complete "
        "and useful to the person who asked (0 = useless or off-topic, 9 = fully helpful)"
    ),
    "correctness": (
        "correctness: whether what the answer states is accurate and free of errors "
        "(0 = wrong or nonsensical, 9 = entirely correct)"
    ),
}

JUDGE_TEMPLATE = (
    "Rate the answer below for {aspect}.\n\n"
    "Instruction:\n{instruction}\n\n"
    "Answer:\n{response}\n\n"
    "First give a short reasoning of one or two sentences. Then end with a final line of the "
    "form `Score: N`, where N is an integer from 0 to 9."
)


def direct_messages(instruction: str) -> list[Message]:
    """The model answers the instruction as a helpful assistant."""
    return [
        {"role": "system", "content": ASSISTANT_SYSTEM},
        {"role": "user", "content": instruction},
    ]


def referenced_messages(instruction: str, human: str) -> list[Message]:
    """The model answers the instruction with the human answer as its reference."""
    content = REFERENCED_TEMPLATE.format(instruction=instruction, human=human)
    return [
        {"role": "system", "content": ASSISTANT_SYSTEM},
        {"role": "user", "content": content},
    ]


def judge_messages(aspect: str, instruction: str, response: str) -> list[Message]:
    """Ask for one aspect's 0-9 rating with a short reasoning first."""
    if aspect not in JUDGE_ASPECTS:
        raise ValueError(f"unknown aspect {aspect!r}: use one of {sorted(JUDGE_ASPECTS)}")
    content = JUDGE_TEMPLATE.format(
        aspect=JUDGE_ASPECTS[aspect], instruction=instruction, response=response
    )
    return [
        {"role": "system", "content": JUDGE_SYSTEM},
        {"role": "user", "content": content},
    ]
