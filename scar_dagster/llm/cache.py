"""Response cache: one JSON object per request, keyed by sha256 of what determines the reply.

The key covers the endpoint (``base_url`` without user info), the model, the messages and the
sampling parameters, never the API key. Only successful replies are stored, so a rerun after a
crash or a cancel asks exactly the requests that have no entry yet. Entries live in any
:class:`~scar_dagster.storage.stores.BlobStore` (a local folder or S3) under ``prefix``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from scar_dagster.llm.types import ChatResult, Message
from scar_dagster.storage.stores import BlobStore

CACHE_PREFIX = "llm_cache"


def cache_key(
    base_url: str, model: str, messages: Sequence[Message], parameters: Mapping[str, Any]
) -> str:
    """sha256 hex of the canonical JSON of ``(base_url, model, messages, parameters)``."""
    payload = {
        "base_url": base_url.rstrip("/"),
        "model": model,
        "messages": [dict(m) for m in messages],
        "parameters": dict(parameters),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class ResponseCache:
    """Stores replies as ``<prefix>/<key[:2]>/<key>.json`` in a blob store."""

    def __init__(self, store: BlobStore, prefix: str = CACHE_PREFIX) -> None:
        self.store, self.prefix = store, prefix.strip("/")

    def _path(self, key: str) -> str:
        return f"{self.prefix}/{key[:2]}/{key}.json"

    def get(self, key: str) -> ChatResult | None:
        """The cached reply (``cached=True``), or ``None``; an unreadable entry counts as absent."""
        path = self._path(key)
        if not self.store.exists(path):
            return None
        try:
            entry = json.loads(self.store.read_bytes(path))
            return ChatResult(
                content=str(entry["content"]),
                finish_reason=entry.get("finish_reason"),
                prompt_tokens=int(entry.get("prompt_tokens") or 0),
                completion_tokens=int(entry.get("completion_tokens") or 0),
                cached=True,
            )
        except (ValueError, KeyError, TypeError):
            return None

    def put(self, key: str, result: ChatResult, request: Mapping[str, Any]) -> None:
        """Store a successful reply with the request it answers (failures are never stored)."""
        if not result.ok or result.content is None:
            raise ValueError("only successful replies are cached")
        entry = {
            "content": result.content,
            "finish_reason": result.finish_reason,
            "prompt_tokens": result.prompt_tokens,
            "completion_tokens": result.completion_tokens,
            "request": dict(request),
        }
        data = json.dumps(entry, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
        self.store.write_bytes(self._path(key), data)

    def __len__(self) -> int:
        return sum(1 for _ in self.store.list(self.prefix))
