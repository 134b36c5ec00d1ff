"""``selector: auto``, the default: which selector serves, given where the champion came from.

The StyleRanker when the champion is a real ranker: a published SCAR checkpoint, or one
trained on SCAR's released data, on preference pairs, on your own quadruples, or on
quadruples an endpoint (a real LLM) generated. Otherwise (the bundled demo set, quadruples the
local 135M LM wrote, or an origin not recorded) the route measured to beat the demo ranker on
both criteria on real text (docs/selectors.md), or ``scar`` with the reason when none does.
"""

from __future__ import annotations

from dataclasses import dataclass

PUBLISHED = "published"
SCAR_DATA = "scar_data"
PREFERENCE_PAIRS = "preference_pairs"
QUADRUPLE_FILE = "quadruple_file"
ENDPOINT_GENERATED = "endpoint_generated"
LOCAL_GENERATED = "local_generated"
BUNDLED_DEMO = "bundled_demo"
UNKNOWN = "unknown"
REAL_RANKER_KINDS = frozenset(
    {PUBLISHED, SCAR_DATA, PREFERENCE_PAIRS, QUADRUPLE_FILE, ENDPOINT_GENERATED}
)
RANKER_KINDS = (*sorted(REAL_RANKER_KINDS), LOCAL_GENERATED, BUNDLED_DEMO, UNKNOWN)

# What the measurements of docs/selectors.md ("How auto chooses") found for a demo champion.
FALLBACK_SELECTOR = "scar"
FALLBACK_REASON = (
    "no selector measured here beats the demo ranker on both criteria on real text "
    "(docs/selectors.md): auto keeps scar"
)


@dataclass(frozen=True)
class AutoChoice:
    """The selector ``auto`` resolved to, and why (for metadata, reports and the demo)."""

    selector: str
    reason: str
    ranker_kind: str


def resolve_auto(ranker_kind: str) -> AutoChoice:
    """The selector for a champion of ``ranker_kind`` (one of ``RANKER_KINDS``)."""
    if ranker_kind not in RANKER_KINDS:
        raise ValueError(f"unknown ranker kind {ranker_kind!r}; expected one of {RANKER_KINDS}")
    if ranker_kind in REAL_RANKER_KINDS:
        return AutoChoice(
            "scar", f"the champion is a real ranker ({ranker_kind}): its scores", ranker_kind
        )
    what = {
        LOCAL_GENERATED: "trained on quadruples the local 135M LM wrote",
        BUNDLED_DEMO: "trained on the bundled demo set",
        UNKNOWN: "of an origin not recorded",
    }[ranker_kind]
    return AutoChoice(
        FALLBACK_SELECTOR, f"the champion is a demo ranker ({what}); {FALLBACK_REASON}", ranker_kind
    )
