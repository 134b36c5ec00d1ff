"""The comparison's figures are those of each selector's own subset and report."""

import math

import pandas as pd
import pytest

from scar_dagster import schema
from scar_dagster.schema import STYLE_METRICS
from scar_dagster.selection import SelectionParams, curate
from scar_dagster.selectors import build_selector
from scar_dagster.selectors.comparison import compare_selectors
from scar_dagster.storage import tables
from scar_dagster.storage.stores import LocalStore
from tests.selection_pool import planted_pairs

PARAMS = SelectionParams(ratio=0.3, seed=2)
HELDOUT = [
    {"instruction": "Explain it.", "preferred": "a much longer answer with words", "other": "no"},
    {"instruction": "Say more.", "preferred": "yes", "other": "a longer answer than that one"},
    {"instruction": "Go on.", "preferred": "several words in this answer", "other": "two words"},
]


@pytest.fixture
def compared(tmp_path, tiny_models):
    pairs, features, scores = planted_pairs()
    engine = tables.create_engine_for(f"sqlite:///{tmp_path / 'db.sqlite'}")
    tables.ensure_schema(engine)
    tables.upsert_scores(engine, scores.assign(ranker_version="rv-tiny"))
    quarantine = pd.DataFrame(columns=list(schema.QUARANTINE_COLUMNS))
    selectors = [build_selector(n, tiny_models) for n in ("scar", "length", "random")]
    comparison = compare_selectors(
        selectors,
        pairs=pairs,
        quarantine=quarantine,
        features=features,
        params=PARAMS,
        engine=engine,
        store=LocalStore(tmp_path / "store"),
        prefix="subsets",
        folder=tmp_path / "work",
        ranker_version="rv-tiny",
        heldout=HELDOUT,
        scar_seconds=2.0,
    )
    yield comparison, pairs, features, quarantine, engine, tmp_path
    engine.dispose()


def test_each_row_is_the_single_selectors_subset_and_report(compared):
    comparison, pairs, features, quarantine, engine, tmp_path = compared
    for outcome, row in zip(comparison.outcomes, comparison.table.to_dict("records"), strict=True):
        alone = curate(
            pairs=pairs,
            quarantine=quarantine,
            features=features,
            scored_by=outcome.run.scored_by,
            params=PARAMS,
            engine=engine,
            store=LocalStore(tmp_path / "alone"),
            prefix="subsets",
            folder=tmp_path / f"alone-{outcome.name}",
        )
        assert row["subset_version"] == alone.version
        assert row["rows_selected"] == alone.subset_rows == len(outcome.ids)
        style = alone.report.style
        for metric in STYLE_METRICS:
            expected = style.loc[metric, "subset_std"] / style.loc[metric, "random_std"]
            assert row[f"std_ratio_{metric}"] == pytest.approx(expected)
        flagged = [m for m in STYLE_METRICS if row[f"std_ratio_{m}"] > 1]
        assert row["above_random"] == (",".join(flagged) or "none")
        selected = tables.read_decisions(engine, alone.version, selected_only=True)
        assert set(selected["id"]) == outcome.ids
        counts = alone.report.counts.drop(index="(all)")["selected"]
        assert row["sources"] == ", ".join(f"{s}: {n}" for s, n in counts.items() if n)


def test_overlaps_are_the_jaccard_of_the_selected_ids(compared):
    comparison = compared[0]
    by_name = {o.name: o.ids for o in comparison.outcomes}
    for a, ids_a in by_name.items():
        for b, ids_b in by_name.items():
            expected = len(ids_a & ids_b) / len(ids_a | ids_b)
            assert comparison.overlap.loc[a, b] == pytest.approx(expected)


def test_preference_accuracy_is_the_share_of_preferred_sides_scored_higher(compared):
    table = compared[0].table.set_index("selector")
    assert table.loc["length", "preference_accuracy"] == pytest.approx(2 / 3)
    assert table.loc["length", "preference_pairs"] == 3
    assert (
        table.loc["length", "preference_ci95_low"]
        < 2 / 3
        < table.loc["length", "preference_ci95_high"]
    )
    assert math.isfinite(table.loc["scar", "preference_accuracy"])  # the ranker scores pairs
    assert (
        table.loc["scar", "seconds"] == 2.0
        and math.isnan(table.loc["length", "pairs_per_s"]) is False
    )


def test_the_plot_and_the_markdown_name_every_selector(compared):
    comparison = compared[0]
    assert comparison.plot_png().startswith(b"\x89PNG")
    text = comparison.to_markdown()
    assert all(name in text for name in ("scar", "length", "random", "Jaccard"))
