"""One file of instruction/response pairs read outside the pipeline (``scar-dagster rank``).

The same readers and normalization as ``raw_pairs``: any format and layout the ingest reads,
the same canonical texts and pair ids; each row that cannot be read is counted by its reason.
"""

from __future__ import annotations

from pathlib import Path

from scar_dagster.ingest.normalize import RecordQuarantined, normalize_record
from scar_dagster.ingest.readers import read_records
from scar_dagster.schema import Pair


def read_pairs_any_format(path: Path) -> tuple[list[Pair], dict[str, int]]:
    """Instruction/response pairs of any file the ingest reads; quarantined rows counted by
    reason."""
    pairs: list[Pair] = []
    quarantined: dict[str, int] = {}
    with path.open("rb") as stream:
        for record in read_records(path.name, stream):
            reason = record.reason
            if reason is None:
                try:
                    pairs.append(
                        normalize_record(
                            record.payload,
                            source=path.stem,
                            origin_file=path.name,
                            origin_line=record.line,
                        )
                    )
                    continue
                except RecordQuarantined as error:
                    reason = error.reason
            quarantined[reason] = quarantined.get(reason, 0) + 1
    return pairs, dict(sorted(quarantined.items()))
