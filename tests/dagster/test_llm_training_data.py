"""ranker_training_data -> style_ranker with an endpoint generator and the LLM judge; the same
with prompts from a file, the SCAR toolkit's parse rule and policy, and a SCAR-layout export.

A loopback fake of ``/v1/chat/completions`` answers the generation prompts and the judge's
helpfulness/correctness prompts (some with malformed ratings), so the whole Dagster path runs
in seconds; the real ``transformers serve`` path is in tests/reliability/test_llm_server.py.
"""

import re

import pandas as pd
import pytest
from dagster import AssetSelection, materialize

import definitions
from scar_dagster.dagster.resources import LLMEndpointResource
from scar_dagster.schema import QUADRUPLE_JUDGE_UNPARSEABLE
from tests.fake_chat import FakeChatServer, completion
from tests.pipeline import resources, write_jsonl

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TOPICS = ["boil an egg", "tie a tie", "plant tulips", "fold a shirt", "brew tea", "oil a bike"]
MALFORMED = "oil a bike"  # its judge replies carry no usable score


def _reply(body: dict) -> tuple[int, dict]:
    text = body["messages"][-1]["content"]
    topic = next(t for t in TOPICS if t in text)
    if text.startswith("Rate the answer"):
        if topic == MALFORMED:
            return 200, completion("I would rather not say.")
        score = 8 if "helpfulness" in text.split("\n")[0] else 6
        return 200, completion(f"It answers the question clearly.\nScore: {score}")
    if "reference answer" in text:
        return 200, completion(f"To {topic}, follow the steps the reference gives, in order.")
    return 200, completion(f"Here is how to {topic}: prepare, do it slowly, then check it.")


def _generate(tmp_path, instance, reply, ops: dict, selection: AssetSelection):
    """Ingest one source of TOPICS, then materialize ``selection`` with generation and judging
    on a fake endpoint answering ``reply``; returns the result and the server."""
    home, landing = tmp_path / "home", tmp_path / "landing"
    rows = [{"instruction": f"How do I {t}?", "output": f"just {t} carefully"} for t in TOPICS]
    write_jsonl(landing / "howto" / "a.jsonl", rows)
    base = {
        "generate": True,
        "sample_size": len(TOPICS),
        "generation_backend": "endpoint",
        "judge_backend": "endpoint",
    }
    ops = {**ops, "ranker_training_data": {"config": {**base, **ops["ranker_training_data"]}}}
    with FakeChatServer(reply) as server:
        endpoint = LLMEndpointResource(base_url=server.url + "/v1", model="fake", api_key="sk-x")
        res = {**resources(home, landing), "llm_endpoint": endpoint}
        instance.add_dynamic_partitions("data_source", ["howto"])
        everything = list(definitions.defs.assets) + list(definitions.defs.asset_checks)
        materialize(
            everything,
            selection=AssetSelection.groups("ingest"),
            partition_key="howto",
            instance=instance,
            resources=res,
        )
        result = materialize(
            everything,
            selection=selection,
            instance=instance,
            resources=res,
            run_config={"ops": ops},
        )
    return result, server


def test_endpoint_generation_and_llm_judging_train_the_ranker(tmp_path, instance):
    ranker = {"epochs": 1, "max_length": 32, "hidden_dim": 32, "batch_size": 4}
    ops = {"ranker_training_data": {}, "style_ranker": {"config": ranker}}
    result, server = _generate(tmp_path, instance, _reply, ops, AssetSelection.groups("ranker"))
    (event,) = result.asset_materializations_for_node("ranker_training_data")
    meta = {k: getattr(v, "value", v) for k, v in event.metadata.items()}
    n = len(TOPICS)
    assert meta["llm_requests"] == 2 * n + 6 * n == len(server.requests)
    assert meta["llm_failures"] == 0 and meta["judge"].startswith("llm-judge:endpoint:")
    assert meta["dagster/row_count"] == n - 1
    assert re.findall(r"\| (quadruple_\w+) \| (\d+) \|", meta["quarantined_by_reason"]) == [
        (QUADRUPLE_JUDGE_UNPARSEABLE, "1")
    ]
    assert "sk-x" not in str(meta)
    (stored,) = (tmp_path / "home").rglob("ranker_training_data.parquet")
    frame = pd.read_parquet(stored)
    assert MALFORMED not in " ".join(frame["instruction"])
    assert set(frame["quality_direct"]) == {7.0} and set(frame["helpfulness_human"]) == {8.0}
    assert result.asset_materializations_for_node("style_ranker")  # trained on the judged rows


TOOLKIT_LIKE = """
[direct]
user = 'DIRECT {instruction}'
[referenced]
user = 'REFERENCED {reference_answer} FOR {instruction}'
[helpfulness]
user = 'RATE-H Instruction: {PROBLEM} Response: {OUTPUT}'
[correctness]
user = 'RATE-C Instruction: {PROBLEM} Response: {OUTPUT}'
"""


def _toolkit_reply(body: dict) -> tuple[int, dict]:
    (message,) = body["messages"]  # the file's templates have no system message
    text = message["content"]
    topic = next(t for t in TOPICS if t in text)
    if text.startswith("RATE-H"):  # ours would read 8 (the last number); the toolkit's rule 6
        return 200, completion("Helpfulness: 6\nI'd say 6/9.\nFinal Helpfulness Score (0-9): 8")
    if text.startswith("RATE-C"):
        reply = "I would rather not say." if topic == MALFORMED else "Final Correctness Score: 7"
        return 200, completion(reply)
    return 200, completion(f"To {topic}: prepare, then do it ({text.split()[0].lower()}).")


def test_prompt_file_toolkit_parsing_and_scar_export(tmp_path, instance):
    from scar_dagster.ranker.data.scar_data import read_scar_data
    from scar_dagster.storage.stores import LocalStore

    prompts = tmp_path / "prompts.toml"
    prompts.write_text(TOOLKIT_LIKE)
    config = {
        "prompts_path": str(prompts),
        "judge_parse": "most_common_number",
        "judge_unparseable": "zero",
        "judge_max_tokens": 1024,
        "export_scar_path": str(tmp_path / "exported"),
        "export_scar_generator": "fake_gen",
    }
    ops = {"ranker_training_data": config}
    selection = AssetSelection.assets("ranker_training_data")
    result, server = _generate(tmp_path, instance, _toolkit_reply, ops, selection)
    (event,) = result.asset_materializations_for_node("ranker_training_data")
    meta = {k: getattr(v, "value", v) for k, v in event.metadata.items()}
    n = len(TOPICS)
    assert meta["dagster/row_count"] == n  # the malformed ratings scored 0 instead of dropping
    assert meta["judge_unparseable_scored_zero"] == 3  # its human, referenced, direct answers
    assert meta["prompts"].endswith(f"({prompts})")
    assert "parse=most_common_number" in meta["judge"] and "unparseable=zero" in meta["judge"]
    judged = [b for b in server.requests if b["messages"][0]["content"].startswith("RATE")]
    assert len(judged) == 6 * n and {b["max_tokens"] for b in judged} == {1024}
    asked = [b["messages"][0]["content"] for b in server.requests]
    assert any(a.startswith("REFERENCED just tie a tie carefully FOR") for a in asked)
    folder = tmp_path / "exported" / "ranker_data" / "open" / "fake_gen"
    assert meta["scar_export"]["folder"] == str(folder) and meta["scar_export"]["written"] == n
    back, quarantined = read_scar_data(LocalStore(folder))
    assert quarantined == [] and len(back) == n
    by_topic = {next(t for t in TOPICS if t in r["instruction"]): r for r in back}
    assert by_topic["tie a tie"]["helpfulness_direct"] == 6.0
    assert by_topic["tie a tie"]["quality_direct"] == 6.5
    assert by_topic[MALFORMED]["correctness_human"] == 0.0
    assert by_topic[MALFORMED]["quality_human"] == 3.0
