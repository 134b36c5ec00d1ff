"""The one exception of record parsing: a record that cannot become a pair, and why."""

from __future__ import annotations


class RecordQuarantined(Exception):
    """A record (or one of a conversation's pairs) that cannot become a pair.

    ``reason`` is a stable code from ``scar_dagster.schema``; ``turn`` is the 1-based turn a
    conversation's pair answers with (0 for the record as a whole).
    """

    def __init__(self, reason: str, detail: str, turn: int = 0) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.turn = turn
