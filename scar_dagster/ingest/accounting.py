"""What reading one source counted: records, the rows they became, layouts and turns.

The invariant of ingest: ``input_rows == kept + duplicates + quarantined``, where
``input_rows`` is every record read (file-level rows such as an empty file or a skipped link
included) plus the pairs beyond the first that a conversation gave under ``turns = "all"``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from scar_dagster.ingest.landing import SourceListing
from scar_dagster.ingest.source_config import SourceConfig


@dataclass
class SourceStats:
    """Counters filled while a source is read."""

    input_records: int = 0
    extra_turn_pairs: int = 0
    conversations: int = 0
    turns: int = 0
    unused_turns: int = 0
    layouts: dict[str, Counter[str]] = field(default_factory=dict)

    @property
    def input_rows(self) -> int:
        """Rows to account for: records plus the extra pairs of multi-turn conversations."""
        return self.input_records + self.extra_turn_pairs

    def count_record(self, file: str, layout: str, rows: int, turns: int, unused: int) -> None:
        """One record of ``file`` read in ``layout``, giving ``rows`` rows."""
        self.layouts.setdefault(file, Counter())[layout] += 1
        self.extra_turn_pairs += rows - 1
        if turns:
            self.conversations += 1
            self.turns += turns
            self.unused_turns += unused

    def turn_counts(self) -> dict[str, int]:
        """Conversations, their turns, the turns the policy used and those it did not."""
        return {
            "conversations": self.conversations,
            "turns": self.turns,
            "used_turns": self.turns - self.unused_turns,
            "unused_turns": self.unused_turns,
            "extra_turn_pairs": self.extra_turn_pairs,
        }

    def file_layouts(self) -> dict[str, dict[str, int]]:
        """``file -> layout -> records`` (records read in that layout)."""
        return {file: dict(sorted(counts.items())) for file, counts in sorted(self.layouts.items())}


@dataclass(frozen=True)
class SourceRead:
    """What reading a source found besides its rows: its listing, the config in force (with
    the config file's sha256, None without one) and the counts."""

    listing: SourceListing
    config: SourceConfig
    config_sha256: str | None
    stats: SourceStats

    def config_summary(self) -> dict[str, Any]:
        """The config for metadata and versions: the file's fingerprint and every setting."""
        return {"file_sha256": self.config_sha256, "settings": self.config.settings()}
