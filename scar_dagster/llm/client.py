"""A client for any OpenAI-compatible ``/v1/chat/completions`` endpoint, built to be left alone.

- Retries with exponential backoff and jitter on 429, 5xx, timeouts and dropped connections,
  waiting at least what ``Retry-After`` (or ``retry-after-ms``) asks; other 4xx fail at once.
- At most ``max_concurrency`` requests in flight (a thread pool).
- A :class:`~scar_dagster.llm.cache.ResponseCache`: a reply is paid for once, whatever crashes.
- :class:`Usage` counters: requests, attempts, retries, prompt/completion tokens, cache hits,
  failures.

A request that still fails becomes a :class:`ChatResult` with an ``error`` code, never an
exception, so one bad request never loses a batch. The API key is kept out of ``repr``, of the
cache key and of :attr:`ChatClient.name`.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, fields
from typing import Any

from scar_dagster.llm.cache import ResponseCache, cache_key
from scar_dagster.llm.types import (
    LLM_BAD_RESPONSE,
    LLM_CLIENT_ERROR,
    LLM_CONNECTION_ERROR,
    LLM_RATE_LIMITED,
    LLM_SERVER_ERROR,
    LLM_TIMEOUT,
    ChatRequest,
    ChatResult,
    redact_url,
)

PLACEHOLDER_API_KEY = "not-needed"  # local servers ignore the key; the openai client wants one


@dataclass(frozen=True)
class EndpointSettings:
    """Where and how to ask. ``max_tokens=None`` lets the server decide (no cap)."""

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    temperature: float = 0.0
    max_tokens: int | None = 1024
    timeout_s: float = 600.0
    max_concurrency: int = 4
    retries: int = 5
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if not self.base_url or not self.model:
            raise ValueError("an LLM endpoint needs base_url and model")
        if self.max_concurrency < 1 or self.retries < 0:
            raise ValueError("need max_concurrency >= 1 and retries >= 0")


@dataclass
class Usage:
    """What the client did; thread-safe through :meth:`add`."""

    requests: int = 0  # distinct requests sent (cache misses)
    attempts: int = 0  # HTTP attempts, retries included
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cache_hits: int = 0
    failures: int = 0  # requests that failed after every retry
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}


class _Retryable(Exception):
    def __init__(self, code: str, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.code, self.detail, self.retry_after = code, detail, retry_after


def retry_after_seconds(headers: Any, now: float | None = None) -> float | None:
    """Seconds asked by ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date)."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff_seconds(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": uniform in [d/2, d], d = min(cap, base * 2^n)."""
    delay = min(cap, base * 2.0**attempt)
    return rng.uniform(delay / 2.0, delay)


class ChatClient:
    """Chat completions from one endpoint and model, cached, retried and counted."""

    def __init__(
        self,
        settings: EndpointSettings,
        cache: ResponseCache | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        jitter_seed: int = 0,
    ) -> None:
        self.settings, self.cache, self.sleep = settings, cache, sleep
        self.usage = Usage()
        self._rng = random.Random(jitter_seed)
        self._rng_lock = threading.Lock()
        self._client: Any = None
        self._client_lock = threading.Lock()
        self.base_url = redact_url(settings.base_url)
        self.name = f"endpoint:{self.base_url} model={settings.model}"

    def parameters(self, request: ChatRequest) -> dict[str, Any]:
        """The sampling parameters sent with (and hashed for) ``request``."""
        params: dict[str, Any] = {"temperature": self.settings.temperature}
        max_tokens = request.max_tokens or self.settings.max_tokens
        if max_tokens is not None:
            params["max_tokens"] = max_tokens
        if self.settings.seed is not None:
            params["seed"] = self.settings.seed
        return params

    def key(self, request: ChatRequest) -> str:
        return cache_key(
            self.base_url, self.settings.model, request.messages, self.parameters(request)
        )

    def _openai(self) -> Any:
        with self._client_lock:
            if self._client is None:
                import openai

                self._client = openai.OpenAI(
                    base_url=self.settings.base_url,
                    api_key=self.settings.api_key or PLACEHOLDER_API_KEY,
                    timeout=self.settings.timeout_s,
                    max_retries=0,  # retries are ours: counted, jittered, Retry-After honoured
                )
            return self._client

    def _attempt(self, request: ChatRequest) -> ChatResult:
        """One HTTP call; raises :class:`_Retryable` for what deserves another try."""
        import openai

        self.usage.add(attempts=1)
        try:
            reply = self._openai().chat.completions.create(
                model=self.settings.model,
                messages=list(request.messages),
                **self.parameters(request),
            )
        except openai.RateLimitError as error:
            raise _Retryable(
                LLM_RATE_LIMITED, _describe(error), retry_after_seconds(error.response.headers)
            ) from error
        except openai.APITimeoutError as error:  # before APIConnectionError: it is a subclass
            raise _Retryable(LLM_TIMEOUT, _describe(error)) from error
        except openai.APIConnectionError as error:
            raise _Retryable(LLM_CONNECTION_ERROR, _describe(error)) from error
        except openai.APIStatusError as error:
            if error.status_code >= 500 or error.status_code == 408:
                headers = error.response.headers
                raise _Retryable(
                    LLM_SERVER_ERROR, _describe(error), retry_after_seconds(headers)
                ) from error
            return ChatResult(error=LLM_CLIENT_ERROR, detail=_describe(error))
        choices = getattr(reply, "choices", None) or []
        content = choices[0].message.content if choices else None
        if content is None:
            return ChatResult(error=LLM_BAD_RESPONSE, detail="reply without choices or content")
        usage = getattr(reply, "usage", None)
        return ChatResult(
            content=content,
            finish_reason=choices[0].finish_reason,
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
        )

    def _wait(self, attempt: int, retry_after: float | None) -> float:
        with self._rng_lock:
            jittered = backoff_seconds(
                attempt, self.settings.backoff_s, self.settings.max_backoff_s, self._rng
            )
        return jittered if retry_after is None else max(retry_after, jittered)

    def _ask(self, request: ChatRequest) -> ChatResult:
        """The reply after up to ``retries`` retries, or a failed result with the last error."""
        self.usage.add(requests=1)
        for attempt in range(self.settings.retries + 1):
            try:
                result = self._attempt(request)
            except _Retryable as error:
                if attempt == self.settings.retries:
                    self.usage.add(failures=1)
                    detail = f"{error.detail} (after {attempt + 1} attempts)"
                    return ChatResult(error=error.code, detail=detail, attempts=attempt + 1)
                self.usage.add(retries=1)
                self.sleep(self._wait(attempt, error.retry_after))
                continue
            if not result.ok:
                self.usage.add(failures=1)
                return result
            self.usage.add(
                prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens
            )
            return result
        raise AssertionError("unreachable")

    def complete(self, request: ChatRequest) -> ChatResult:
        """One request: from the cache, else asked (and then cached when it succeeded)."""
        key = self.key(request)
        if self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                self.usage.add(cache_hits=1)
                return hit
        result = self._ask(request)
        if result.ok and self.cache is not None:
            body = {"model": self.settings.model, "messages": list(request.messages)}
            self.cache.put(key, result, {**body, **self.parameters(request)})
        return result

    def complete_many(
        self, requests: Sequence[ChatRequest], progress: Any | None = None
    ) -> list[ChatResult]:
        """Results in input order; identical requests are asked once; ``progress.advance``d.

        A cancel (``KeyboardInterrupt`` or the run being stopped) drops the queued requests;
        every reply already received is in the cache for the rerun.
        """
        keys = [self.key(r) for r in requests]
        first: dict[str, int] = {}
        for n, key in enumerate(keys):
            first.setdefault(key, n)
        copies = Counter(keys)
        results: dict[str, ChatResult] = {}
        pool = ThreadPoolExecutor(self.settings.max_concurrency, thread_name_prefix="llm")
        try:
            futures = {pool.submit(self.complete, requests[n]): key for key, n in first.items()}
            for future in as_completed(futures):
                key = futures[future]
                results[key] = future.result()
                if progress is not None:
                    progress.advance(copies[key])
        except BaseException:
            # Cancelled: drop what is queued, let requests in flight finish into the cache.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        return [results[key] for key in keys]


def _describe(error: Exception) -> str:
    """Exception type, HTTP status and message (the openai client never echoes the key)."""
    status = getattr(error, "status_code", None)
    text = str(error).splitlines()[0][:300] if str(error) else ""
    return f"{type(error).__name__}{f' {status}' if status else ''}: {text}"
