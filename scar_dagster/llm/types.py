"""The request and result records every chat backend exchanges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable
from urllib.parse import urlsplit, urlunsplit

Message = dict[str, str]

# Why a request produced no usable reply (ChatResult.error).
LLM_RATE_LIMITED = "llm_rate_limited"
LLM_SERVER_ERROR = "llm_server_error"
LLM_TIMEOUT = "llm_timeout"
LLM_CONNECTION_ERROR = "llm_connection_error"
LLM_CLIENT_ERROR = "llm_client_error"
LLM_BAD_RESPONSE = "llm_bad_response"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat completion to ask: the messages and an optional per-request token cap."""

    messages: tuple[Message, ...]
    max_tokens: int | None = None

    @classmethod
    def of(cls, messages: Sequence[Message], max_tokens: int | None = None) -> ChatRequest:
        return cls(tuple(dict(m) for m in messages), max_tokens)


@dataclass(frozen=True, slots=True)
class ChatResult:
    """A reply (``content``, ``finish_reason``) or a failure (``error`` code and ``detail``).

    ``finish_reason == "length"`` means the reply stopped at the token cap.
    """

    content: str | None = None
    finish_reason: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    error: str | None = None
    detail: str = ""
    attempts: int = field(default=0, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"


@runtime_checkable
class ChatBackend(Protocol):
    """Anything that answers many chat requests, in input order, one result per request."""

    name: str

    def complete_many(
        self, requests: Sequence[ChatRequest], progress: object | None = None
    ) -> list[ChatResult]: ...


def redact_url(url: str) -> str:
    """``url`` without user info (``http://user:secret@host`` -> ``http://host``)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, "")).rstrip("/")
