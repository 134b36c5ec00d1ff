"""Every selector gives the same subset of the same input, through the one selection path."""

import numpy as np
import pandas as pd
import pytest

from scar_dagster import schema
from scar_dagster.selection import SelectionParams
from scar_dagster.selectors import SELECTOR_NAMES, build_selector
from scar_dagster.selectors.comparison import compare_selectors
from scar_dagster.selectors.distilled import DistillParams
from scar_dagster.selectors.pool_input import selector_pool
from scar_dagster.selectors.registry import SelectorSettings
from scar_dagster.storage import tables
from scar_dagster.storage.stores import LocalStore
from tests.selection_pool import planted_pairs

SETTINGS = SelectorSettings(seed=3, distill=DistillParams(sample_size=40, batch_size=8))


def _inputs(n: int = 150):
    pairs, features, scores = planted_pairs(n)
    return pairs, features, scores


def _compare(tmp_path, tiny_models, names, pairs, features, scores, **options):
    tmp_path.mkdir(parents=True, exist_ok=True)
    engine = tables.create_engine_for(f"sqlite:///{tmp_path / 'db.sqlite'}")
    tables.ensure_schema(engine)
    tables.upsert_scores(engine, scores.assign(ranker_version="rv-tiny"))
    selectors = [build_selector(name, tiny_models, SETTINGS) for name in names]
    try:
        return compare_selectors(
            selectors,
            pairs=pairs,
            quarantine=pd.DataFrame(columns=list(schema.QUARANTINE_COLUMNS)),
            features=features,
            params=SelectionParams(ratio=0.25, seed=3),
            engine=engine,
            store=LocalStore(tmp_path / "store"),
            prefix="subsets",
            folder=tmp_path / "work",
            ranker_version="rv-tiny",
            **options,
        ), engine
    finally:
        engine.dispose()


def test_every_selector_gives_the_same_subset_twice(tmp_path, tiny_models):
    pairs, features, scores = _inputs()
    first, _ = _compare(tmp_path / "a", tiny_models, SELECTOR_NAMES, pairs, features, scores)
    shuffled = pairs.sample(frac=1.0, random_state=7)  # another input order, same pool
    again, _ = _compare(tmp_path / "b", tiny_models, SELECTOR_NAMES, shuffled, features, scores)
    assert list(first.table["selector"]) == list(SELECTOR_NAMES)
    for a, b in zip(first.outcomes, again.outcomes, strict=True):
        assert a.ids == b.ids and a.ids, a.name
        assert a.run.scored_by == b.run.scored_by, a.name
        assert a.result.version == b.result.version, a.name
    versions = [o.result.version for o in first.outcomes]
    assert len(set(versions)) == len(versions)  # the subset version names the selector


@pytest.mark.parametrize("name", ["length", "random", "perplexity", "ifd"])
def test_stored_scores_are_reused_and_only_new_pairs_are_scored(tmp_path, tiny_models, name):
    from scar_dagster.selectors.run import score_and_store

    pairs, features, _ = _inputs()
    engine = tables.create_engine_for(f"sqlite:///{tmp_path / 'db.sqlite'}")
    selector = build_selector(name, tiny_models, SETTINGS)
    small = selector_pool(selector, pairs.iloc[:100], features)
    first = score_and_store(selector, small, 5, engine)
    whole = selector_pool(selector, pairs, features)
    second = score_and_store(selector, whole, 5, engine)
    assert (first.computed, first.reused) == (len(small), 0)
    assert (second.computed, second.reused) == (len(whole) - len(small), len(small))
    assert first.scored_by == second.scored_by
    stored = tables.read_selector_scores(engine, first.scored_by.version)
    direct = selector.scores(whole, 5)  # no store: LM batches of other pairs (rounding ~1e-6)
    np.testing.assert_allclose(stored["score"], direct, rtol=1e-5, atol=1e-6)
    engine.dispose()


def test_length_prefers_longer_responses_and_random_is_uniform_by_id(tiny_models):
    pairs, features, _ = _inputs()
    length = build_selector("length", tiny_models, SETTINGS)
    pool = selector_pool(length, pairs, features)
    np.testing.assert_array_equal(length.scores(pool, 5), pool.feature("n_words"))
    rand = build_selector("random", tiny_models, SETTINGS)
    scores = rand.scores(selector_pool(rand, pairs, None), 5)
    assert ((scores >= 0) & (scores < 1)).all() and len(set(scores)) == len(scores)
    other = build_selector("random", tiny_models, SelectorSettings(seed=4))
    assert not np.allclose(other.scores(selector_pool(other, pairs, None), 5), scores)


def test_diversity_picks_the_budget_first_and_scar_diversity_picks_among_the_best(tiny_models):
    pairs, features, scores = _inputs()
    diversity = build_selector("diversity", tiny_models, SETTINGS)
    pool = selector_pool(diversity, pairs, features)
    values = diversity.scores(pool, 7)
    assert (values > 2).sum() == 7 and diversity.radius is not None
    combo = build_selector("scar+diversity", tiny_models, SETTINGS)
    scar = scores.set_index("id")["score"].reindex(pool.ids).to_numpy()
    with_scar = type(pool)(**{**pool.__dict__, "scar_scores": scar})
    picked = np.flatnonzero(combo.scores(with_scar, 7) > 2)
    best = set(np.lexsort((np.arange(len(scar)), -scar))[:14].tolist())
    assert len(picked) == 7 and set(picked.tolist()) <= best
