"""The held-out instructions never reach a training set; the random arm matches the subset."""

from __future__ import annotations

import pandas as pd
import pytest

from scar_dagster.evaluation.subset_split import (
    FULL,
    RANDOM,
    SCAR,
    draw_heldout,
    eligible_ids,
    heldout_from_file,
    instruction_key,
    pool_from_decisions,
    split_for_evaluation,
)


def _pool(n: int = 40) -> pd.DataFrame:
    rows = [
        {"id": f"p{i:02d}", "instruction": f"Question {i % 30}?", "response": f"Answer {i}."}
        for i in range(n)
    ]
    rows.append({"id": "dup", "instruction": "  QUESTION 3? ", "response": "Shouted copy."})
    return pd.DataFrame(rows)


SUBSET = [f"p{i:02d}" for i in range(0, 40, 3)] + ["dup"]


def _keys(frame: pd.DataFrame) -> set[str]:
    return set(frame["instruction"].map(instruction_key))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_heldout_instructions_are_in_no_training_set(seed):
    split = split_for_evaluation(_pool(), SUBSET, heldout_size=6, seed=seed)
    held = _keys(split.heldout)
    assert len(split.heldout) == len(held) == 6
    for arm in (SCAR, RANDOM, FULL):
        assert not held & _keys(split.arms[arm]), arm
    sizes = split.sizes()
    assert sizes[SCAR] == sizes[RANDOM] > 0
    assert sizes[FULL] == split.pool_rows - split.removed_for_heldout
    assert set(split.arms[SCAR]["id"]) <= set(SUBSET)
    assert set(split.arms[RANDOM]["id"]) <= set(split.arms[FULL]["id"])


def test_split_is_seeded_and_order_independent():
    pool = _pool()
    first = split_for_evaluation(pool, SUBSET, heldout_size=5, seed=7)
    again = split_for_evaluation(
        pool.sample(frac=1, random_state=3), SUBSET[::-1], heldout_size=5, seed=7
    )
    assert first.heldout.equals(again.heldout)
    for arm in first.arms:
        assert first.arms[arm]["id"].tolist() == again.arms[arm]["id"].tolist()
    other = split_for_evaluation(pool, SUBSET, heldout_size=5, seed=8)
    assert set(other.arms[RANDOM]["id"]) != set(first.arms[RANDOM]["id"])


def test_a_case_or_space_variant_of_a_heldout_instruction_leaves_every_set():
    heldout = pd.DataFrame({"instruction": ["question 3?"], "response": ["Ref."]})
    split = split_for_evaluation(_pool(), SUBSET, heldout_size=1, seed=0, heldout=heldout)
    removed = {"p03", "p33", "dup"}
    assert split.removed_for_heldout == len(removed)
    for frame in split.arms.values():
        assert not removed & set(frame["id"])
    assert split.heldout_origin == "user file"
    assert any("share a held-out instruction" in note for note in split.notes)


def test_without_the_full_arm_and_errors():
    assert set(
        split_for_evaluation(_pool(), SUBSET, heldout_size=2, seed=0, include_full=False).arms
    ) == {SCAR, RANDOM}
    with pytest.raises(ValueError, match="not in the eligible pool"):
        split_for_evaluation(_pool(), ["nope"], heldout_size=2, seed=0)
    with pytest.raises(ValueError, match="too few"):
        draw_heldout(_pool(4), 10, seed=0)
    everything = pd.DataFrame(
        {"instruction": [f"Question {i}?" for i in range(30)], "response": "r"}
    )
    with pytest.raises(ValueError, match="no subset pair is left"):
        split_for_evaluation(_pool(), SUBSET, heldout_size=1, seed=0, heldout=everything)


def test_the_pool_is_the_ranked_decisions_with_their_texts(tmp_path):
    decisions = pd.DataFrame(
        {
            "id": ["a", "b", "c", "d"],
            "selected": [True, False, False, False],
            "reason": ["selected", "select_below_cutoff", "dedup_exact", "language_non_english"],
            "rank": pd.array([1, 2, None, None], dtype="Int64"),
        }
    )
    assert eligible_ids(decisions) == ["a", "b"]
    texts = pd.DataFrame({"id": ["a", "b"], "instruction": ["i", "j"], "response": ["r", "s"]})
    pool, chosen = pool_from_decisions(decisions, lambda ids: texts[texts["id"].isin(ids)])
    assert pool["id"].tolist() == ["a", "b"] and chosen == ["a"]
    with pytest.raises(ValueError, match="no text"):
        pool_from_decisions(decisions, lambda ids: texts.head(1))
    (tmp_path / "h.jsonl").write_text('{"instruction": "Q", "input": "ctx", "output": "A"}\n')
    assert heldout_from_file(tmp_path / "h.jsonl").to_dict("records") == [
        {"instruction": "Q\n\nctx", "response": "A"}
    ]
