"""The subset evaluation end to end on the real SmolLM2: three one-step LoRA fine-tunes, their
held-out losses and answers, a real ``transformers serve`` judge on 127.0.0.1 (a 135M judge is
no judge: these tests check the mechanics). Both orders asked, exact request counts, a rerun
from the caches, a judge killed mid-run, and a run killed mid-way that resumes."""

from __future__ import annotations

import math

import pytest

from scar_dagster.evaluation.subset_answers import answer_key
from scar_dagster.evaluation.subset_judge import JUDGE_FAILED
from scar_dagster.evaluation.subset_run import arm_fingerprint
from scar_dagster.evaluation.subset_split import RANDOM
from scar_dagster.storage.stores import LocalStore
from tests import subset_case as case
from tests.faulty_proxies import FaultyHttpProxy
from tests.killer import kill_at

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]


def _asked(result) -> int:
    """Judge requests the answers call for: both orders of every pair of differing answers."""
    scar = result.arms["scar"].answers
    return sum(
        2 * sum(a != b for a, b in zip(scar, result.arms[other].answers, strict=True))
        for other in ("random", "full")
    )


@pytest.fixture(scope="module")
def proxy(llm_server):
    """One judge URL for the module (it is part of every cached reply's key)."""
    with FaultyHttpProxy(llm_server.url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def first(proxy, llm_server, smollm2_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("subset-eval")
    client = case.judge(proxy.url, llm_server.model, LocalStore(root / "judge"))
    result = case.run_case(root, smollm2_path, client)
    return root, result, client, proxy.forwarded


def test_three_models_trained_measured_and_judged_in_both_orders(first):
    root, result, client, forwarded = first
    split = case.split()
    assert result.heldout_rows == 3 and set(result.arms) == {"scar", "random", "full"}
    assert result.arms["scar"].rows == result.arms["random"].rows == len(split.arms["scar"])
    assert result.arms["full"].rows == len(case.POOL) - 3
    assert not any(arm.reused for arm in result.arms.values())
    for arm in result.arms.values():
        assert math.isfinite(arm.heldout_loss) and arm.answers_generated == 3
        assert arm.record["metrics"]["output_format"] == "lora_adapter"
    assert math.isfinite(result.base_loss)
    assert result.judge_requests == _asked(result) == forwarded == client.usage.requests
    assert client.usage.cache_hits == 0
    for rate in result.comparisons.values():
        assert rate.n + sum(rate.excluded.values()) == 3
        low, high = rate.interval
        assert 0 <= low <= high <= 1
    # the judge saw each differing pair twice, the two answers swapped
    entries = [e.key for e in LocalStore(root / "judge").list("llm_cache")]
    assert len(entries) == result.judge_requests
    summary = result.to_dict()
    assert set(summary["heldout_losses"]) == {"base", "scar", "random", "full"}


def test_a_rerun_reuses_the_models_and_asks_nothing(first, proxy, llm_server, smollm2_path):
    root, result, _, forwarded = first
    client = case.judge(proxy.url, llm_server.model, LocalStore(root / "judge"))
    again = case.run_case(root, smollm2_path, client)
    assert proxy.forwarded == forwarded and client.usage.cache_hits == result.judge_requests
    assert client.usage.requests == 0
    assert all(arm.reused and arm.answers_cached == 3 for arm in again.arms.values())
    assert again.losses() == result.losses()
    assert {n: r.to_dict() for n, r in again.comparisons.items()} == {
        n: r.to_dict() for n, r in result.comparisons.items()
    }


def test_a_judge_killed_mid_run_fails_the_run_and_the_rerun_asks_the_rest(
    first, proxy, llm_server, smollm2_path, tmp_path
):
    root, result, _, _ = first
    survived, before = 2, proxy.forwarded
    store = LocalStore(tmp_path / "judge")  # a new judge cache: every comparison is asked again

    def kill_after(forwarded: int) -> None:
        if forwarded == before + survived:
            llm_server.kill()

    proxy.after_forward = kill_after
    with pytest.raises(RuntimeError, match="failed judge requests"):
        case.run_case(root, smollm2_path, case.judge(proxy.url, llm_server.model, store))
    proxy.after_forward = None
    llm_server.start()  # a new process on a new port, behind the same proxy URL
    proxy.retarget(llm_server.url)
    client = case.judge(proxy.url, llm_server.model, store)
    resumed = case.run_case(root, smollm2_path, client)
    assert client.usage.cache_hits == survived
    assert client.usage.requests == result.judge_requests - survived
    assert proxy.forwarded - before == result.judge_requests  # nothing asked twice
    assert all(JUDGE_FAILED not in r.excluded for r in resumed.comparisons.values())


def test_a_run_killed_while_answering_resumes_where_it_stopped(smollm2_path, llm_server, tmp_path):
    split = case.split()
    random_ids = split.arms[RANDOM]["id"].tolist()
    fingerprint = arm_fingerprint(random_ids, case.SETTINGS, smollm2_path)
    first_answer = answer_key(
        fingerprint, split.heldout["instruction"][0], case.PARAMS.max_new_tokens
    )
    script = f"""
from pathlib import Path
from scar_dagster.storage.stores import LocalStore
from tests import subset_case as case
root = Path({str(tmp_path)!r})
client = case.judge("http://127.0.0.1:9", "unused", LocalStore(root / "judge"))
case.run_case(root, {smollm2_path!r}, client)
"""
    kill_at(script, f"fsync:{first_answer}")  # scar trained and answered, random trained
    client = case.judge(llm_server.url, llm_server.model, LocalStore(tmp_path / "judge"))
    resumed = case.run_case(tmp_path, smollm2_path, client)
    arms = resumed.arms
    assert {a: (r.reused, r.answers_cached) for a, r in arms.items()} == {
        "scar": (True, 3),
        "random": (True, 0),
        "full": (False, 0),
    }
    assert resumed.judge_requests == _asked(resumed) == client.usage.requests
