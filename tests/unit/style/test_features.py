"""The style_features table: one row per pair, contract columns, degenerate rows flagged."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from scar_dagster.style.features import (
    FEATURES_EMPTY_RESPONSE,
    FEATURES_NO_WORDS,
    FEATURES_TOO_LONG,
    STYLE_FEATURE_COLUMNS,
    StyleFeatureParams,
    compute_style_features,
)
from scar_dagster.style.form import FORM_FEATURE_COLUMNS
from scar_dagster.style.sampling import bottom_k
from tests.log_sink import Lines

CASES = {
    "valid": ("Name a colour.", "Blue is a colour.", None),
    "empty": ("Say something.", "", FEATURES_EMPTY_RESPONSE),
    "blank": ("Say something.", "   \n\t", FEATURES_EMPTY_RESPONSE),
    "punct": ("Say something.", "?!... --- ***", FEATURES_NO_WORDS),
    "emoji": ("Say something.", "😀🎉👍", FEATURES_NO_WORDS),
    "huge": ("Say something.", "word " * 5_000, FEATURES_TOO_LONG),
    "long": ("Write an essay.", "This sentence repeats itself. " * 200, None),
}


def raw_pairs(cases=CASES) -> pd.DataFrame:
    rows = [
        {"id": key, "source": "demo", "instruction": instr, "response": resp}
        for key, (instr, resp, _) in cases.items()
    ]
    return pd.DataFrame(rows, index=range(100, 100 + len(rows)))  # a non-default index


EVERY_ROW = StyleFeatureParams(max_response_chars=20_000, perplexity="all", relatedness="all")


@pytest.fixture()
def features(tiny_ppl, encoder):
    return compute_style_features(raw_pairs(), lm=tiny_ppl, encoder=encoder, params=EVERY_ROW)


def test_contract_columns_and_order(features):
    assert tuple(features.columns) == STYLE_FEATURE_COLUMNS
    assert list(features["id"]) == list(CASES)
    assert (features["source"] == "demo").all()
    assert list(features.index) == list(range(len(CASES)))


def test_degenerate_rows_have_reason_and_null_features(features):
    reasons = features.set_index("id")["degenerate_reason"]
    for key, (_, _, reason) in CASES.items():
        if reason is None:
            assert pd.isna(reasons[key]), key
        else:
            assert reasons[key] == reason, key
    degenerate = features[features["degenerate_reason"].notna()]
    value_columns = [*FORM_FEATURE_COLUMNS, "perplexity", "relatedness", "truncated"]
    assert degenerate[value_columns].isna().all().all()


def test_valid_rows_have_features(features):
    valid = features[features["degenerate_reason"].isna()].set_index("id")
    assert valid[[*FORM_FEATURE_COLUMNS[:3], "perplexity", "relatedness"]].notna().all().all()
    assert bool(valid.loc["long", "truncated"]) and not bool(valid.loc["valid", "truncated"])
    assert valid.loc["valid", "n_words"] == 4


def test_without_models_surprisal_is_nan(tiny_ppl):
    out = compute_style_features(raw_pairs(), lm=None, encoder=None, params=StyleFeatureParams())
    assert out["perplexity"].isna().all() and out["relatedness"].isna().all()
    assert out["truncated"].isna().all()
    disabled = StyleFeatureParams(perplexity="off", relatedness="off")
    out2 = compute_style_features(raw_pairs(), lm=tiny_ppl, encoder=None, params=disabled)
    assert out2["perplexity"].isna().all() and tiny_ppl.batches == 0
    assert out2["n_words"].equals(out["n_words"])


def test_read_computes_the_costly_columns_for_the_drift_sample_only(tiny_ppl, encoder, features):
    params = dataclasses.replace(EVERY_ROW, perplexity="read", relatedness="read", sample_rows=3)
    out = compute_style_features(raw_pairs(), lm=tiny_ppl, encoder=encoder, params=params)
    sample = bottom_k(out["id"], 3, params.sample_seed)
    valid = out["degenerate_reason"].isna().to_numpy()
    for column in ("perplexity", "relatedness"):
        assert (out[column].notna().to_numpy() == (sample & valid)).all(), column
        np.testing.assert_allclose(
            out.loc[sample & valid, column], features.loc[sample & valid, column]
        )
    pd.testing.assert_frame_equal(
        out[list(FORM_FEATURE_COLUMNS)], features[list(FORM_FEATURE_COLUMNS)]
    )
    assert out.loc[~sample, "truncated"].isna().all()
    given = np.zeros(len(out), dtype=bool)
    given[[0, 6]] = True  # a sample chosen by the caller (e.g. over a whole partition)
    chosen = compute_style_features(
        raw_pairs(), lm=tiny_ppl, encoder=None, params=params, sample=given
    )
    assert chosen["perplexity"].notna().tolist() == given.tolist()


def test_perplexities_come_from_the_store_the_second_time(tiny_ppl, tmp_path):
    from scar_dagster.storage.tables import create_engine_for, ensure_schema

    engine = create_engine_for(f"sqlite:///{tmp_path / 'cache.db'}")
    ensure_schema(engine)
    params = StyleFeatureParams(max_response_chars=20_000, perplexity="all", relatedness="off")
    cost: Counter[str] = Counter()
    first = compute_style_features(
        raw_pairs(), lm=tiny_ppl, encoder=None, params=params, store=engine, cost=cost
    )
    batches = tiny_ppl.batches
    again = compute_style_features(
        raw_pairs(), lm=tiny_ppl, encoder=None, params=params, store=engine, cost=cost
    )
    assert batches > 0 and tiny_ppl.batches == batches  # no LM call the second time
    pd.testing.assert_frame_equal(first, again)
    valid = int(first["degenerate_reason"].isna().sum())
    assert cost == {"computed": valid, "reused": valid}


def test_empty_frame_and_missing_columns():
    empty = raw_pairs().iloc[:0]
    out = compute_style_features(empty, lm=None, encoder=None)
    assert tuple(out.columns) == STYLE_FEATURE_COLUMNS and len(out) == 0
    with pytest.raises(ValueError, match="response"):
        compute_style_features(empty.drop(columns="response"), lm=None, encoder=None)


def test_params_are_frozen_and_validated():
    params = StyleFeatureParams()
    assert (params.perplexity, params.relatedness) == ("read", "read")  # pay for what is read
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.relatedness_batch_size = 2  # type: ignore[misc]
    with pytest.raises(ValueError, match="batch_size"):
        StyleFeatureParams(relatedness_batch_size=0)
    with pytest.raises(ValueError, match="perplexity must be one of"):
        StyleFeatureParams(perplexity="some")


def test_non_string_response_is_empty():
    frame = raw_pairs({"none": ("Q?", None, FEATURES_EMPTY_RESPONSE)})
    out = compute_style_features(frame, lm=None, encoder=None)
    assert out.loc[0, "degenerate_reason"] == FEATURES_EMPTY_RESPONSE
    assert np.isnan(out.loc[0, "n_chars"])


def test_each_phase_logs_rows_done_over_total(tiny_ppl, encoder):
    lines = Lines()
    compute_style_features(raw_pairs(), lm=tiny_ppl, encoder=encoder, params=EVERY_ROW, log=lines)
    valid = sum(reason is None for _, _, reason in CASES.values())
    finals = [m for m in lines.messages if "done in" in m]
    assert [m.split(",")[0] for m in finals] == [
        f"style features: form: {len(CASES)}/{len(CASES)} rows (100.0%)",
        f"style features: perplexity: {valid}/{valid} rows (100.0%)",
        f"style features: relatedness: {2 * valid}/{2 * valid} texts (100.0%)",
    ]
