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


_GUIDE_SLOTS = (
    (
        "Here is how to {t}.",
        "This shows how to {t}.",
        "Below: the way to {t}.",
        "So you want to {t}.",
        "A quick way to {t}.",
    ),
    ("## Steps", "## Method", "## Plan", "## Process", "## Routine"),
    (
        "- **Prepare**: gather what you need to {t}.",
        "- **Set up**: find a calm place to {t}.",
        "- **Get ready**: collect every tool to {t}.",
        "- **Plan**: decide when and where to {t}.",
        "- **Start**: clear some time today to {t}.",
    ),
    (
        "- **Do it**: {t} carefully.",
        "- **Act**: {t} with patience.",
        "- **Work**: {t} slowly and calmly.",
        "- **Go**: {t} without rushing.",
        "- **Practice**: {t} twice daily.",
    ),
    (
        "- **Check**: review the result.",
        "- **Verify**: inspect your outcome.",
        "- **Reflect**: note what went well.",
        "- **Test**: confirm it really worked.",
        "- **Review**: look over your work.",
    ),
    (
        "In short, {t} one step at a time.",
        "Overall, {t} with care and focus.",
        "To sum up, {t} gently and often.",
        "Remember, {t} a little every day.",
        "Finally, {t} calmly and keep going.",
    ),
)


def varied_guide(topic: str, i: int) -> str:
    """A markdown guide in ``guide``'s style whose wording varies with ``i``.

    Slot ``k`` takes variant ``(i + k * (i // 5)) % 5``, so two guides with ``i`` < 25 share
    at most one of the six slots: their word-bigram Jaccard stays well below 0.5, unlike
    ``guide``'s one template (~0.51 between any two topics, a borderline near duplicate).
    """
    lines = [slot[(i + k * (i // 5)) % 5].format(t=topic) for k, slot in enumerate(_GUIDE_SLOTS)]
    intro, header, *bullets, summary = lines
    return f"{intro}\n\n{header}\n\n" + "\n".join(bullets) + f"\n\n{summary}"


def reposted_guide(topic: str, i: int) -> str:
    """``varied_guide(topic, i)`` reposted with a one-word edit: a clear near duplicate."""
    return varied_guide(topic, i).replace("\n\n## ", " Thanks!\n\n## ", 1)


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
