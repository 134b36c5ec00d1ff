"""``scar-dagster inspect PATH``: what ingest would make of a file or a source folder.

It reads PATH exactly as the ``raw_pairs`` asset reads a source (the same ``SourceReader``,
with the ``scar_source.toml`` of the folder, or beside the file) and prints the format and
layouts found per file, the config in force, how many rows would be kept, duplicates or
dropped by reason, the paths that are not read, and a few example pairs. Nothing is written.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scar_dagster import schema as r
from scar_dagster.ingest.accounting import SourceRead
from scar_dagster.ingest.landing import list_source, source_name_problem
from scar_dagster.ingest.pipeline import DEFAULT_CHUNK_ROWS, SourceReader
from scar_dagster.ingest.readers import file_format
from scar_dagster.ingest.source_config import CONFIG_FILE
from scar_dagster.storage.stores import LocalStore

EXAMPLE_CHARS = 300


@dataclass
class InspectReport:
    """What reading one file or source folder gave, without writing anything."""

    folder: Path
    read: SourceRead
    kept: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[r.Pair] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return self.reasons.get(r.INGEST_DUPLICATE, 0)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (``--json``)."""
        listing, stats, config = self.read.listing, self.read.stats, self.read.config
        layouts = stats.file_layouts()
        return {
            "folder": str(self.folder),
            "source_name_problem": source_name_problem(self.folder.name),
            "config_file": str(self.folder / CONFIG_FILE) if self.read.config_sha256 else None,
            "config": self.read.config_summary(),
            "files": {
                info.key: {
                    "format": (file_format(info.key, config) or "unsupported").lstrip("."),
                    "layouts": layouts.get(info.key, {}),
                }
                for info in listing.files
            },
            "skipped": {item.key: item.reason for item in listing.skipped},
            "ignored": dict(listing.ignored),
            "input_records": stats.input_records,
            "input_rows": stats.input_rows,
            "kept": self.kept,
            "duplicates": self.duplicates,
            "quarantined": sum(self.reasons.values()) - self.duplicates,
            "quarantined_by_reason": dict(sorted(self.reasons.items())),
            "turns": stats.turn_counts(),
            "examples": [
                {
                    "where": _where(pair),
                    "instruction": pair.instruction,
                    "response": pair.response,
                }
                for pair in self.examples
            ],
        }

    def render(self) -> str:
        """The report as text for a terminal."""
        data = self.to_dict()
        lines = [f"folder: {data['folder']}"]
        if data["source_name_problem"]:
            lines.append(f"  note: {data['source_name_problem']} (needed in the landing zone)")
        lines.append(f"config: {data['config_file'] or 'none (defaults)'}")
        settings = data["config"]["settings"]
        lines.append("  " + ", ".join(f"{key}={value!r}" for key, value in settings.items()))
        lines.append("files:")
        for key, found in data["files"].items():
            layouts = ", ".join(f"{name}: {n:,}" for name, n in found["layouts"].items()) or "-"
            lines.append(f"  {key}  [{found['format']}]  layouts: {layouts}")
        lines += [f"  not read: {key}  ({reason})" for key, reason in data["skipped"].items()]
        lines += [f"  ignored: {key}  ({why})" for key, why in data["ignored"].items()]
        lines.append(
            f"records: {data['input_records']:,} read, {data['input_rows']:,} rows -> "
            f"{data['kept']:,} kept, {data['duplicates']:,} duplicates, "
            f"{data['quarantined']:,} quarantined"
        )
        lines += [f"  {reason}: {n:,}" for reason, n in data["quarantined_by_reason"].items()]
        turns = data["turns"]
        if turns["conversations"]:
            lines.append(
                f"turns: {turns['conversations']:,} conversations, {turns['turns']:,} turns, "
                f"{turns['used_turns']:,} used, {turns['unused_turns']:,} unused "
                f"(turns = {settings['turns']!r})"
            )
        lines.append("examples:" if data["examples"] else "examples: none kept")
        for number, example in enumerate(data["examples"], start=1):
            lines.append(f"  {number}. {example['where']}")
            lines.append(f"     instruction: {_short(example['instruction'])}")
            lines.append(f"     response:    {_short(example['response'])}")
        return "\n".join(lines)


def _where(pair: r.Pair) -> str:
    turn = f" turn {pair.origin_turn}" if pair.origin_turn else ""
    return f"{pair.origin_file}:{pair.origin_line}{turn}"


def _short(text: str) -> str:
    text = text.replace("\n", " ⏎ ")
    return text if len(text) <= EXAMPLE_CHARS else text[: EXAMPLE_CHARS - 1] + "…"


def inspect_path(path: str | Path, examples: int = 3) -> InspectReport:
    """Read a local file (with the ``scar_source.toml`` beside it) or source folder as ingest
    would; raises ``FileNotFoundError`` or ``SourceConfigError`` with the path."""
    target = Path(path).expanduser().resolve()
    if not target.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    folder = target if target.is_dir() else target.parent
    store = LocalStore(folder.parent)
    listing = list_source(store, folder.name)
    if target.is_file():
        listing = listing.only(target.name)
    reader = SourceReader(store, folder.name, chunk_rows=DEFAULT_CHUNK_ROWS, listing=listing)
    report = InspectReport(folder=folder, read=reader.read)
    for pairs, dropped in reader.chunks():
        report.kept += len(pairs)
        report.reasons.update(dropped["reason"])
        wanted = examples - len(report.examples)
        report.examples += [r.Pair(**row) for row in pairs.head(wanted).to_dict("records")]
    return report


def _run(args: argparse.Namespace) -> int:
    for path in args.paths:
        report = inspect_path(path, examples=args.examples)
        print(json.dumps(report.to_dict(), sort_keys=True) if args.json else report.render())
    return 0


def add_inspect_command(commands: Any) -> None:
    """Register ``inspect`` on the ``scar-dagster`` sub-command parser."""
    inspect = commands.add_parser(
        "inspect",
        help="what ingest would make of a file or source folder (nothing is written)",
        description="For each PATH (a data file, read with the scar_source.toml beside it, "
        "or a source folder): the format and layouts per file, the config in force, rows kept "
        "and dropped by reason, paths not read, and example pairs.",
    )
    inspect.add_argument("paths", nargs="+", metavar="PATH", help="file or source folder")
    inspect.add_argument("--examples", type=int, default=3, help="example pairs to show")
    inspect.add_argument("--json", action="store_true", help="one JSON object per PATH")
    inspect.set_defaults(run=_run)
