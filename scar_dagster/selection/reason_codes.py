"""Pool decision reasons as small integer codes while deciding (one byte per pair, not a string)."""

from __future__ import annotations

from scar_dagster import schema

REASON_CODES: tuple[str, ...] = (
    "",  # eligible so far
    schema.FEATURES_DEGENERATE,
    schema.DEDUP_EXACT,
    schema.LANGUAGE_NON_ENGLISH,
    schema.DEDUP_NEAR,
    schema.SELECTED,
    schema.SELECT_QUOTA,
    schema.SELECT_BELOW_CUTOFF,
)
_CODE = {name: code for code, name in enumerate(REASON_CODES)}


def reason_code(reason: str) -> int:
    """The code of a pool reason (``KeyError`` for a reason the pool never gives)."""
    return _CODE[reason]
