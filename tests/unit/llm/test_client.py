"""ChatClient against a loopback server: retries, Retry-After, cache, concurrency, usage."""

from __future__ import annotations

import random

import pytest

from scar_dagster.llm.cache import ResponseCache, cache_key
from scar_dagster.llm.client import (
    ChatClient,
    EndpointSettings,
    backoff_seconds,
    retry_after_seconds,
)
from scar_dagster.llm.types import (
    LLM_CLIENT_ERROR,
    LLM_CONNECTION_ERROR,
    LLM_SERVER_ERROR,
    ChatRequest,
    redact_url,
)
from scar_dagster.storage.stores import LocalStore
from tests.fake_chat import FakeChatServer, completion
from tests.faulty_proxies import FaultyHttpProxy, closed_port


def _client(url: str, cache=None, **overrides) -> tuple[ChatClient, list[float]]:
    sleeps: list[float] = []
    options = {"retries": 3, "backoff_s": 0.5, "max_backoff_s": 4.0, "max_concurrency": 2}
    settings = EndpointSettings(base_url=url + "/v1", model="m", **{**options, **overrides})
    return ChatClient(settings, cache, sleep=sleeps.append), sleeps


def _ask(text: str) -> ChatRequest:
    return ChatRequest.of([{"role": "user", "content": text}])


def test_retry_after_is_read_in_seconds_milliseconds_and_http_dates():
    assert retry_after_seconds({"retry-after": "3"}) == 3.0
    assert retry_after_seconds({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    date = "Wed, 21 Oct 2015 07:28:10 GMT"
    assert retry_after_seconds({"retry-after": date}, now=1445412480.0) == 10.0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None and retry_after_seconds(None) is None


def test_backoff_doubles_with_jitter_and_is_capped():
    rng = random.Random(0)
    for attempt, full in enumerate([1.0, 2.0, 4.0, 8.0, 8.0]):
        assert full / 2 <= backoff_seconds(attempt, 1.0, 8.0, rng) <= full


def test_429_and_500_are_retried_honouring_retry_after_then_the_reply_counts():
    with (
        FakeChatServer() as server,
        FaultyHttpProxy(
            server.url, fail_first=3, fail_statuses=(429, 500), retry_after="2"
        ) as proxy,
    ):
        client, sleeps = _client(proxy.url)
        result = client.complete(_ask("hello"))
    assert result.ok and result.content == "olleh" and result.finish_reason == "stop"
    assert proxy.failed_by_status == {429: 2, 500: 1} and len(server.requests) == 1
    assert sleeps[0] >= 2.0 and sleeps[2] >= 2.0  # the two 429s said Retry-After: 2
    assert 0.5 <= sleeps[1] <= 1.0  # the 500: backoff of attempt 1 (1.0 s, jittered)
    usage = client.usage.as_dict()
    assert usage == {
        "requests": 1,
        "attempts": 4,
        "retries": 3,
        "prompt_tokens": 7,
        "completion_tokens": 5,
        "cache_hits": 0,
        "failures": 0,
    }


def test_exhausted_retries_and_client_errors_become_failed_results():
    with FakeChatServer() as server, FaultyHttpProxy(server.url, always_fail=True) as proxy:
        client, sleeps = _client(proxy.url, retries=2)
        result = client.complete(_ask("hello"))
    assert result.error == LLM_SERVER_ERROR and "after 3 attempts" in result.detail
    assert len(sleeps) == 2 and client.usage.failures == 1 and server.requests == []

    with FakeChatServer(lambda body: (400, {"error": {"message": "bad model"}})) as server:
        client, sleeps = _client(server.url)
        result = client.complete(_ask("hello"))
    assert result.error == LLM_CLIENT_ERROR and "400" in result.detail and sleeps == []

    client, _ = _client(f"http://127.0.0.1:{closed_port()}", retries=1)
    assert client.complete(_ask("hello")).error == LLM_CONNECTION_ERROR


def test_the_cache_answers_reruns_and_duplicates_without_requests(tmp_path):
    cache = ResponseCache(LocalStore(tmp_path))
    asked = [_ask("a"), _ask("b"), _ask("a"), _ask("c")]
    with FakeChatServer() as server:
        first, _ = _client(server.url, cache)
        results = first.complete_many(asked)
        assert [r.content for r in results] == ["a", "b", "a", "c"]
        assert len(server.requests) == 3 and first.usage.requests == 3  # "a" asked once
        second, _ = _client(server.url, cache)
        again = second.complete_many(asked)
    assert [r.content for r in again] == ["a", "b", "a", "c"] and all(r.cached for r in again)
    assert len(server.requests) == 3 and second.usage.requests == 0
    assert second.usage.cache_hits == 3 and len(cache) == 3


def test_failures_are_not_cached_and_a_rerun_asks_only_them(tmp_path):
    cache = ResponseCache(LocalStore(tmp_path))

    def reply(body):
        text = body["messages"][-1]["content"]
        return (500, {}) if text == "bad" and not fixed else (200, completion(text))

    fixed = False
    with FakeChatServer(reply) as server:
        client, _ = _client(server.url, cache, retries=0)
        results = client.complete_many([_ask("ok"), _ask("bad")])
        assert [r.ok for r in results] == [True, False] and client.usage.failures == 1
        fixed = True
        rerun, _ = _client(server.url, cache, retries=0)
        results = rerun.complete_many([_ask("ok"), _ask("bad")])
    assert all(r.ok for r in results)
    assert rerun.usage.requests == 1 and rerun.usage.cache_hits == 1


def test_concurrency_is_bounded_and_results_keep_input_order():
    with FakeChatServer(delay=0.05) as server:
        client, _ = _client(server.url, max_concurrency=2)
        results = client.complete_many([_ask(str(n)) for n in range(8)])
    assert [r.content for r in results] == [str(n) for n in range(8)]
    assert 1 <= server.max_in_flight <= 2


def test_the_api_key_stays_out_of_names_reprs_and_cache_keys():
    settings = EndpointSettings(base_url="http://u:pw@host:1/v1", model="m", api_key="sk-secret")
    client = ChatClient(settings)
    assert "sk-secret" not in repr(settings) and "sk-secret" not in client.name
    assert "pw" not in client.name and redact_url(settings.base_url) == "http://host:1/v1"
    other = ChatClient(EndpointSettings(base_url="http://host:1/v1", model="m", api_key="x"))
    assert client.key(_ask("q")) == other.key(_ask("q"))


def test_cache_key_changes_with_what_changes_the_reply():
    messages = [{"role": "user", "content": "q"}]
    base = cache_key("http://h/v1", "m", messages, {"temperature": 0})
    assert base == cache_key("http://h/v1/", "m", messages, {"temperature": 0})
    assert base != cache_key("http://h/v1", "m2", messages, {"temperature": 0})
    assert base != cache_key("http://h/v1", "m", messages, {"temperature": 0, "max_tokens": 9})
    assert base != cache_key("http://h/v1", "m", [{"role": "user", "content": "Q"}], {})


def test_settings_refuse_an_empty_model():
    with pytest.raises(ValueError, match="base_url and model"):
        EndpointSettings(base_url="http://h/v1", model="")


def _llm_threads() -> list:
    import threading

    return [t for t in threading.enumerate() if t.name.startswith("llm")]


def test_a_cancelled_batch_keeps_its_replies_and_the_rerun_asks_only_the_rest(tmp_path):
    import time

    class Cancel:
        def advance(self, n: int) -> None:
            raise KeyboardInterrupt  # the run is stopped after the first reply

    cache = ResponseCache(LocalStore(tmp_path))
    asked = [_ask(str(n)) for n in range(6)]
    with FakeChatServer(delay=0.05) as server:
        client, _ = _client(server.url, cache, max_concurrency=1)
        with pytest.raises(KeyboardInterrupt):
            client.complete_many(asked, progress=Cancel())
        deadline = time.monotonic() + 30
        while _llm_threads() and time.monotonic() < deadline:
            time.sleep(0.01)  # a request in flight at the cancel still lands in the cache
        first = len(server.requests)
        assert 1 <= first < len(asked) and len(cache) == first
        rerun, _ = _client(server.url, cache, max_concurrency=1)
        results = rerun.complete_many(asked)
    assert [r.content for r in results] == [str(n) for n in range(6)]
    assert rerun.usage.cache_hits == first and rerun.usage.requests == len(asked) - first
    assert len(server.requests) == len(asked)  # nothing asked twice
