"""subset_evaluation after the planted pipeline: on demand only (its own group, no automation,
in no job), the two win rates with intervals, ties and exclusions, held-out losses, a plot."""

import re

import pytest
from dagster import AssetKey, DagsterInstance, materialize

import definitions
from scar_dagster.dagster.resources import FineTuneResource, LLMEndpointResource
from tests.fake_chat import FakeChatServer, completion
from tests.pipeline import resources, run_pipeline, write_landing, write_quadruples

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_torch_thread")]
KEY = AssetKey("subset_evaluation")


def _shorter(body: dict) -> tuple[int, dict]:
    """A transparent judge: the answer with fewer words wins; equal lengths get no verdict."""
    text = body["messages"][-1]["content"]
    a, b = re.search(r"Answer \(a\):\n(.*)\n\nAnswer \(b\):\n(.*)\n\nReply", text, re.S).groups()
    if len(a.split()) == len(b.split()):
        return 200, completion("I cannot tell.")
    return 200, completion("a" if len(a.split()) < len(b.split()) else "b")


def test_it_is_on_demand_only():
    defs = definitions.defs
    node = defs.resolve_assets_def(KEY)
    assert node.group_names_by_key[KEY] == "subset_evaluation"
    assert node.automation_conditions_by_key.get(KEY) is None
    # its own job, launched by no sensor or schedule: test_definitions.py


def test_it_reports_win_rates_losses_and_a_plot(tmp_path):
    home, landing = tmp_path / "home", tmp_path / "landing"
    home.mkdir()
    write_landing(landing)
    with DagsterInstance.ephemeral() as instance, FakeChatServer(_shorter) as judge:
        results = run_pipeline(
            instance, home, landing, write_quadruples(tmp_path / "q.jsonl"), top_k=8
        )
        assert results["selection"].success
        res = resources(home, landing)
        res["fine_tune"] = FineTuneResource(
            output_root=str(tmp_path / "finetune"), max_steps=1, batch_size=2, max_length=64,
            lora=True, lora_rank=4, lora_alpha=8, lora_target_modules=["q_proj"],
            lora_merge=False, device="cpu", dtype="float32",
        )  # fmt: skip
        res["llm_endpoint"] = LLMEndpointResource(base_url=judge.url + "/v1", model="fake")
        config = {"heldout_size": 3, "max_new_tokens": 8, "max_failure_share": 0.0}
        result = materialize(
            list(definitions.defs.assets),
            selection=[KEY],
            instance=instance,
            resources=res,
            run_config={"ops": {"subset_evaluation": {"config": config}}},
        )
    (event,) = result.asset_materializations_for_node("subset_evaluation")
    meta = {k: getattr(v, "value", v) for k, v in event.metadata.items()}
    for name in ("scar_vs_random", "scar_vs_full"):
        counts = meta[f"{name}_counts"]
        assert 0 <= meta[f"{name}_win_rate"] <= 1
        assert meta[f"{name}_ci95"] == f"[{counts['ci95_low']:.3f}, {counts['ci95_high']:.3f}]"
        assert counts["n"] + counts["excluded_total"] == 3
        assert set(counts["excluded"]) <= {"subset_eval_judge_unparseable"}  # never a loss
    assert meta["judge_requests"] == len(judge.requests)
    assert {f"heldout_loss_{m}" for m in ("base", "scar", "random", "full")} <= set(meta)
    assert "data:image/png;base64," in meta["plot"]
    assert meta["heldout"].startswith("3 instructions: seeded draw")
    value = result.output_for_node("subset_evaluation")
    assert value["arms"]["scar"]["rows"] == value["arms"]["random"]["rows"]
    assert set(value["heldout_losses"]) == {"base", "scar", "random", "full"}
