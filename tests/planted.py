"""Planted texts shared by tests: structured guides, terse forum answers, plain rewrites."""

TOPICS = [
    "sort a list",
    "boil an egg",
    "fix a flat tire",
    "write a haiku",
    "clean a pan",
    "plan a trip",
    "learn chess",
    "bake bread",
    "tie a tie",
    "read faster",
    "save money",
    "start running",
    "grow basil",
    "brew tea",
    "paint a wall",
    "back up files",
    "train a dog",
    "fold a shirt",
    "make coffee",
    "study math",
]


def guide(topic: str) -> str:
    """A markdown guide: intro, header, bold bullet list, summary."""
    return (
        f"Here is how to {topic}.\n\n## Steps\n\n- **Prepare**: gather what you need to "
        f"{topic}.\n- **Do it**: {topic} carefully.\n- **Check**: review the result.\n\n"
        f"In short, {topic} one step at a time."
    )


def forum(topic: str, i: int) -> str:
    """A terse lowercase forum answer."""
    words = ["honestly", "imo", "just", "yeah", "tbh", "dunno", "works for me", "lol"]
    return f"{words[i % 8]} {topic} and see, {words[(i + 3) % 8]} it depends on ur setup"


def rewrite(topic: str) -> str:
    """A plain-sentence rewrite."""
    return f"To {topic}, start slowly and keep practicing every day."


def quadruple_rows(n: int = 15, low_direct_every: int | None = None) -> list[dict]:
    """Quadruples where direct (guide) > referenced (rewrite) > human (forum) in style."""
    rows = []
    for i, topic in enumerate(TOPICS[:n]):
        low = low_direct_every is not None and i % low_direct_every == 0
        rows.append(
            {
                "instruction": f"How do I {topic}?",
                "human": forum(topic, i),
                "referenced": rewrite(topic),
                "direct": guide(topic),
                "quality_human": 7,
                "quality_referenced": 8,
                "quality_direct": 4 if low else 9,
            }
        )
    return rows
