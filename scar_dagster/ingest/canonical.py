"""Text as stored, and the content id computed from it.

Text is normalized so that the same content always gets the same id: Unicode NFC, ``\\n``
newlines, no zero-width or control characters, no trailing spaces on lines, no leading or
trailing blank lines. Layout (indentation, blank lines between paragraphs) is kept: it is
part of the linguistic form this project measures.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRAILING_SPACE = re.compile(r"[ \t]+(?=\n)")
_BLANK_RUNS = re.compile(r"\n{3,}")


def canonical_text(text: str) -> str:
    """``text`` as stored: NFC, LF line ends, tabs as 4 spaces, no control or invisible
    characters, no trailing spaces or runs of blank lines; ids, dedup and features see this."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", _INVISIBLE.sub("", text.replace("\t", "    ")))
    text = _TRAILING_SPACE.sub("", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


def pair_id(instruction: str, response: str) -> str:
    """Stable content id: sha256 of the normalized instruction and response, 24 hex chars."""
    digest = hashlib.sha256(f"{instruction}\x1f{response}".encode())
    return digest.hexdigest()[:24]
