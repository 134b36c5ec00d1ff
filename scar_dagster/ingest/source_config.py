"""``scar_source.toml``: how the files of one source are read, kept beside them.

The file sits at the top of the source's landing folder and is not data. Every key is
optional; without the file every default below applies::

    format = "jsonl"           # read every file as jsonl | json | parquet | csv | tsv | arrow
    encoding = "latin-1"       # text files (JSONL, JSON, CSV, TSV); default "utf-8"
    json_path = "data"         # dotted keys to the array of rows of a wrapped .json file
    turns = "all"              # conversations: "first" (default), "last" or "all"
    system_prompt = "prepend"  # conversations: "drop" (default) or "prepend" to the instruction
    origin = "gpt-4"           # a fixed label written to every pair's `origin` column

    [fields]                   # a custom layout: dotted paths into each record
    instruction = "question.text"
    input = "context"          # optional, appended to the instruction after a blank line
    response = "answers.0.text"
    # or, for conversations under another name: conversation = "dialog"

A bad file fails the source's ingest at once with a message naming the file and the key, so
nothing of the source is ingested half-way.
"""

from __future__ import annotations

import codecs
import difflib
import hashlib
import tomllib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

CONFIG_FILE = "scar_source.toml"
FORMATS = ("jsonl", "json", "parquet", "csv", "tsv", "arrow")


class SourceConfigError(ValueError):
    """``scar_source.toml`` cannot be used; the message names the file and the key."""


def _dotted(value: str) -> str:
    if not value.strip() or any(not part.strip() for part in value.split(".")):
        raise ValueError(f"{value!r} is not a dotted path (keys joined by '.', none empty)")
    return value


class FieldMapping(BaseModel):
    """Where a record keeps its texts: dotted paths (``a.b``, ``list.0.text``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    instruction: str | None = None
    input: str | None = None
    response: str | None = None
    conversation: str | None = None

    @field_validator("instruction", "input", "response", "conversation")
    @classmethod
    def _paths(cls, value: str | None) -> str | None:
        return None if value is None else _dotted(value)

    @model_validator(mode="after")
    def _complete(self) -> FieldMapping:
        if self.conversation is not None:
            if self.instruction or self.input or self.response:
                raise ValueError("set either conversation, or instruction and response")
        elif not (self.instruction and self.response):
            raise ValueError("set both instruction and response (or conversation)")
        return self


class SourceConfig(BaseModel):
    """The settings of one source (see the module docstring); defaults = no file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal["jsonl", "json", "parquet", "csv", "tsv", "arrow"] | None = None
    encoding: str = "utf-8"
    json_path: str | None = None
    turns: Literal["first", "last", "all"] = "first"
    system_prompt: Literal["drop", "prepend"] = "drop"
    origin: str | None = None
    fields: FieldMapping | None = None

    @field_validator("encoding")
    @classmethod
    def _text_encoding(cls, value: str) -> str:
        try:
            name = codecs.lookup(value).name
            "\n".encode(value).decode(value)
        except LookupError as error:
            raise ValueError(f"{value!r} is not a text encoding Python knows") from error
        return name

    @field_validator("json_path")
    @classmethod
    def _json_path(cls, value: str | None) -> str | None:
        return None if value is None else _dotted(value)

    @field_validator("origin")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("origin is empty: leave it out, or give a label")
        return value

    def settings(self) -> dict[str, Any]:
        """Every setting in force, defaults included (JSON-ready, for metadata and versions)."""
        return self.model_dump(mode="json")


DEFAULT_CONFIG = SourceConfig()


def _problem(error: dict[str, Any]) -> str:
    key = ".".join(str(part) for part in error["loc"]) or "(file)"
    if error["type"] == "extra_forbidden":
        known = sorted(SourceConfig.model_fields)
        if error["loc"][:1] == ("fields",):
            known = sorted(FieldMapping.model_fields)
        close = difflib.get_close_matches(str(error["loc"][-1]), known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"key {key!r}: unknown key ({hint}known keys: {', '.join(known)})"
    message = error["msg"].removeprefix("Value error, ")
    return f"key {key!r}: {message} (got {error.get('input')!r})"


def parse_source_config(data: bytes, where: str) -> SourceConfig:
    """Parse and validate a config file's bytes; ``where`` names the file in errors."""
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise SourceConfigError(f"{where}: not UTF-8 text ({error})") from error
    except tomllib.TOMLDecodeError as error:
        raise SourceConfigError(f"{where}: not valid TOML: {error}") from error
    try:
        return SourceConfig.model_validate(table)
    except ValidationError as error:
        problems = "; ".join(_problem(item) for item in error.errors())  # type: ignore[arg-type]
        raise SourceConfigError(f"{where}: {problems}") from error


def config_sha256(data: bytes) -> str:
    """The fingerprint of a config file's bytes (the landing sensor's change token)."""
    return hashlib.sha256(data).hexdigest()
