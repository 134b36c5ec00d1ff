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

# What the measurements of docs/selectors.md ("The measurements") found for a demo champion:
# the preference criterion could not be measured (no real human-vs-LLM pairs offline), and on
# the spread criterion no route was more consistent than the demo ranker on TTR, MTLD and
# length at once (1,000 ShareGPT pairs, ratio 0.25, 2026-12-07).
FALLBACK_SELECTOR = "scar"
FALLBACK_REASON = (
    "no route is shown to beat the demo ranker on both criteria on real text: agreement with "
    "human-vs-LLM preferences was not measured here (no real preference pairs offline), and on "
    "1,000 real ShareGPT pairs (ratio 0.25) none of ifd, perplexity, length, diversity, "
    "scar+diversity, distilled had a lower std than the demo ranker on TTR, MTLD and length "
    "at once (demo ranker vs random: 0.54, 0.74, 0.88; docs/selectors.md): auto keeps scar"
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
