"""A tiny subset evaluation on the real SmolLM2 for the tests (one LoRA step per model).

``run_case`` is importable by a test and by a child process that ``tests.killer`` kills, so
both run exactly the same evaluation: 12 pool pairs, a 4-pair subset, 3 held-out instructions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from scar_dagster.evaluation.subset_answers import ANSWERS_PREFIX
from scar_dagster.evaluation.subset_run import SubsetEvaluationParams, evaluate_subset
from scar_dagster.evaluation.subset_split import split_for_evaluation
from scar_dagster.finetune.launch import launch_finetune
from scar_dagster.finetune.params import LoraParams, SFTParams
from scar_dagster.llm.cache import ResponseCache
from scar_dagster.llm.client import ChatClient, EndpointSettings
from scar_dagster.storage.stores import LocalStore

TOPICS = [
    "red",
    "blue",
    "green",
    "cats",
    "dogs",
    "tea",
    "rain",
    "snow",
    "salt",
    "iron",
    "oak",
    "jazz",
]
STYLES = ("{}.", "My word about {} is: lovely, truly lovely.", "{0}! {0}! {0}!")  # subset: the 1st
POOL = pd.DataFrame(
    {
        "id": [f"p{i:02d}" for i in range(len(TOPICS))],
        "instruction": [f"Say one word about {t}." for t in TOPICS],
        "response": [STYLES[i % 3].format(t) for i, t in enumerate(TOPICS)],
    }
)
SUBSET = ["p00", "p03", "p06", "p09"]
LORA = LoraParams(
    rank=8, alpha=16, dropout=0.0, target_modules=("q_proj", "v_proj", "o_proj"), merge=False
)
SFT = SFTParams(
    max_steps=2, batch_size=2, max_length=64, lr=1e-2, num_threads=1, eval_fraction=0.0, lora=LORA
)
PARAMS = SubsetEvaluationParams(
    heldout_size=3, seed=0, max_new_tokens=12, judge_max_tokens=4, max_failure_share=0.0
)
SETTINGS = {"sft": repr(SFT)}


def split():
    return split_for_evaluation(POOL, SUBSET, heldout_size=PARAMS.heldout_size, seed=PARAMS.seed)


def judge(url: str, model: str, store: LocalStore, **settings: Any) -> ChatClient:
    options = {"max_concurrency": 1, "retries": 1, "backoff_s": 0.01, "max_backoff_s": 0.02}
    endpoint = EndpointSettings(url + "/v1", model, **{**options, **settings})
    return ChatClient(endpoint, ResponseCache(store))


def train(base: str):
    def fine_tune(arm: str, subset: Path, version: str, out: Path):
        return launch_finetune(
            "local", subset_path=subset, subset_version=version, output_dir=out,
            base_model_path=base, params=SFT,
        )  # fmt: skip

    return fine_tune


def run_case(root: Path, base: str, judge_client: Any):
    """The evaluation with models under ``root/models`` and answers in ``root/store``."""
    return evaluate_subset(
        split(),
        subset_version="v-test",
        base_model_path=base,
        fine_tune=train(base),
        settings=SETTINGS,
        loss_params=SFT,
        params=PARAMS,
        root=root / "models",
        answer_cache=ResponseCache(LocalStore(root / "store"), ANSWERS_PREFIX),
        judge=judge_client,
    )
