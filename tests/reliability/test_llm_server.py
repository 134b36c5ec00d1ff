"""Training data from a real OpenAI-compatible server on loopback (``transformers serve``).

The converted SmolLM2-135M-Instruct answers ``/v1/chat/completions``; ``ranker_training_data``
generates (and judges) a few quadruples through it and ``style_ranker`` trains on them, behind
a proxy that answers 429/500 for a while, and across a server killed in the middle of a run
(the rerun asks only what the cache lacks). Token caps stay small: the CPU does ~16 tokens/s.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from dagster import AssetSelection, DagsterInstance, materialize

import definitions
from scar_dagster.dagster.resources import LLMEndpointResource
from scar_dagster.schema import QUADRUPLE_JUDGE_UNPARSEABLE
from tests.faulty_proxies import FaultyHttpProxy
from tests.pipeline import resources, write_jsonl

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]

# Short factual questions whose greedy SmolLM2 answers end well within MAX_TOKENS.
TRIVIA = [
    ("What is the capital of France?", "Paris."),
    ("Name the largest planet in the solar system.", "Jupiter"),
    ("What is the chemical symbol for gold?", "Au"),
]
MAX_TOKENS = 48
GENERATION_REQUESTS = 2 * len(TRIVIA)  # referenced + direct per pair
RANKER_CONFIG = {"epochs": 1, "max_length": 64, "hidden_dim": 64, "batch_size": 4, "lr": 1e-4}


@pytest.fixture()
def instance():
    with DagsterInstance.ephemeral() as inst:
        yield inst


@pytest.fixture()
def home(tmp_path):
    return tmp_path / "home"


@pytest.fixture()
def landing(tmp_path):
    rows = [{"instruction": i, "output": r} for i, r in TRIVIA]
    write_jsonl(tmp_path / "landing" / "trivia" / "a.jsonl", rows)
    return tmp_path / "landing"


def _endpoint(url: str, model: str, **overrides) -> LLMEndpointResource:
    options = {"retries": 3, "backoff_s": 0.05, "max_backoff_s": 0.2, "max_concurrency": 2}
    return LLMEndpointResource(
        base_url=url + "/v1", model=model, max_tokens=MAX_TOKENS, **{**options, **overrides}
    )


def _training_config(**overrides) -> dict:
    config = {"generate": True, "sample_size": len(TRIVIA), "generation_backend": "endpoint"}
    return {"config": {**config, **overrides}}


def _materialize(instance, res, selection, ops: dict, partition=None, raise_on_error=True):
    return materialize(
        assets=list(definitions.defs.assets) + list(definitions.defs.asset_checks),
        selection=selection,
        partition_key=partition,
        instance=instance,
        resources=res,
        run_config={"ops": ops},
        raise_on_error=raise_on_error,
    )


def _ingest(instance, res) -> None:
    instance.add_dynamic_partitions("data_source", ["trivia"])
    _materialize(instance, res, AssetSelection.groups("ingest"), {}, partition="trivia")


def _metadata(result, asset: str) -> dict:
    (event,) = result.asset_materializations_for_node(asset)
    return {k: getattr(v, "value", v) for k, v in event.metadata.items()}


def _reasons(metadata: dict) -> set[str]:
    """Reason codes of the ``rejected_by_reason`` markdown table."""
    return set(re.findall(r"\| (quadruple_\w+) \|", metadata["quarantined_by_reason"]))


def test_the_real_server_answers_with_usage_and_finish_reason(llm_server):
    from scar_dagster.llm.client import ChatClient, EndpointSettings
    from scar_dagster.llm.types import ChatRequest

    client = ChatClient(EndpointSettings(llm_server.url + "/v1", llm_server.model, max_tokens=8))
    long, short = client.complete_many(
        [
            ChatRequest.of([{"role": "user", "content": "Explain how a bicycle works."}]),
            ChatRequest.of([{"role": "user", "content": TRIVIA[0][0]}], max_tokens=24),
        ]
    )
    assert long.finish_reason == "length" and long.completion_tokens == 8
    assert short.finish_reason == "stop" and "Paris" in short.content
    assert client.usage.prompt_tokens > 0 and client.usage.requests == 2


def test_generation_and_judging_through_429s_and_500s_then_the_ranker_trains(
    llm_server, instance, home, landing
):
    with FaultyHttpProxy(
        llm_server.url, fail_first=4, fail_statuses=(429, 500), retry_after="1"
    ) as proxy:
        res = {**resources(home, landing), "llm_endpoint": _endpoint(proxy.url, llm_server.model)}
        _ingest(instance, res)
        ops = {
            "ranker_training_data": _training_config(),
            "style_ranker": {"config": RANKER_CONFIG},
        }
        result = _materialize(instance, res, AssetSelection.groups("ranker"), ops)
        generated = _metadata(result, "ranker_training_data")
        assert proxy.failed_by_status == {429: 2, 500: 2}
        assert generated["llm_requests"] == GENERATION_REQUESTS and generated["llm_retries"] == 4
        assert generated["llm_failures"] == 0 and generated["llm_completion_tokens"] > 0
        assert generated["dagster/row_count"] == len(TRIVIA) and generated["quarantined"] == 0
        assert generated["judge_is_fallback"] is True
        assert "api_key" not in str(generated)
        ranker = _metadata(result, "style_ranker")
        assert ranker["trained_version"]

        # The LLM judge through the same endpoint: the generations come from the cache.
        forwarded = proxy.forwarded
        ops = {"ranker_training_data": _training_config(judge_backend="endpoint")}
        ops["ranker_training_data"]["config"]["judge_max_tokens"] = 32
        result = _materialize(instance, res, AssetSelection.assets("ranker_training_data"), ops)
    judged = _metadata(result, "ranker_training_data")
    assert judged["llm_cache_hits"] == GENERATION_REQUESTS
    judge_requests = 2 * 3 * len(TRIVIA)  # helpfulness + correctness of 3 responses per pair
    assert judged["llm_requests"] == judge_requests == proxy.forwarded - forwarded
    assert judged["judge"].startswith("llm-judge:endpoint:") and not judged["judge_is_fallback"]
    # A reply without a usable score excludes its row with a reason; it is never rated 0.
    # (SmolLM2-135M rarely writes a usable score: on this set every pair is usually excluded.)
    assert _reasons(judged) <= {QUADRUPLE_JUDGE_UNPARSEABLE}
    assert judged["dagster/row_count"] + judged["quarantined"] == len(TRIVIA)
    (stored,) = home.rglob("ranker_training_data*.parquet")
    for row in pd.read_parquet(stored).to_dict("records"):
        for kind in ("human", "referenced", "direct"):
            pair = (row[f"helpfulness_{kind}"], row[f"correctness_{kind}"])
            assert row[f"quality_{kind}"] == pytest.approx(sum(pair) / 2) and min(pair) >= 0


def test_a_server_killed_mid_run_resumes_from_the_cache(llm_server, instance, home, landing):
    survived = 3

    def kill_after(forwarded: int) -> None:
        if forwarded == survived:
            llm_server.kill()

    with FaultyHttpProxy(llm_server.url, after_forward=kill_after) as proxy:
        endpoint = _endpoint(proxy.url, llm_server.model, max_concurrency=1, retries=1)
        res = {**resources(home, landing), "llm_endpoint": endpoint}
        _ingest(instance, res)
        ops = {"ranker_training_data": _training_config()}
        selection = AssetSelection.assets("ranker_training_data")
        failed = _materialize(instance, res, selection, ops, raise_on_error=False)
        assert not failed.success and proxy.forwarded == survived
        failure = [e for e in failed.all_events if e.is_step_failure][0]
        assert "max_failure_share" in str(failure.event_specific_data.error)

        llm_server.start()  # a new process on a new port, behind the same proxy URL
        proxy.retarget(llm_server.url)
        result = _materialize(instance, res, selection, ops)
    resumed = _metadata(result, "ranker_training_data")
    assert resumed["llm_cache_hits"] == survived
    assert resumed["llm_requests"] == GENERATION_REQUESTS - survived
    assert proxy.forwarded == GENERATION_REQUESTS  # nothing was asked twice
    assert resumed["dagster/row_count"] == len(TRIVIA)
    assert _reasons(resumed) == set()
    logs = [entry.user_message for entry in instance.all_logs(result.run_id)]
    done = f"training data: generation: {GENERATION_REQUESTS}/{GENERATION_REQUESTS} replies"
    assert any(message.startswith(done) for message in logs)  # progress in the Dagster log
