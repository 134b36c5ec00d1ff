"""A record as a reader yields it: a parsed mapping, or the reason it could not be parsed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scar_dagster import schema as r

EXCERPT_CHARS = 200


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as read: a parsed mapping, or the reason it could not be parsed."""

    line: int
    payload: dict[str, Any] | None
    reason: str | None = None
    detail: str = ""
    excerpt: str = ""


def excerpt(text: str | bytes) -> str:
    """Return a short printable excerpt of bad input for the quarantine table."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = text.strip()
    return text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS] + "…"


def error_text(error: BaseException) -> str:
    """The first argument of ``error`` as text (bytes decoded), else its string."""
    text = error.args[0] if error.args else error
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return str(text)


def damage_record(line: int, reason: str, where: str, error: BaseException) -> RawRecord:
    """The one record standing for everything from record ``line`` on in a damaged file."""
    message = error_text(error)
    what = {
        r.INGEST_TRUNCATED_FILE: "the file ends in the middle of a record",
        r.INGEST_INVALID_ENCODING: "the file has bytes that are not valid text",
    }.get(reason, "the file is corrupt")
    detail = (
        f"{what}: records from {line:,} on are not read; damage detected {where} "
        f"({type(error).__name__}: {message.splitlines()[0] if message else ''})"
    )
    return RawRecord(line, None, reason, detail, excerpt(message))
