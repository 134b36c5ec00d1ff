"""The distilled ranker learns from pairs ordered by perplexity, and ranks as its teacher."""

import numpy as np
import pytest

from scar_dagster.selectors.base import SelectorPool
from scar_dagster.selectors.distilled import (
    DistilledSelector,
    DistillParams,
    perplexity_pairs,
)
from scar_dagster.style.surprisal_cache import PerplexityLM


def test_pairs_put_the_lower_perplexity_first_and_skip_ties():
    ppl = np.array([5.0, 1.0, 3.0, 3.0, 9.0])
    pairs = perplexity_pairs(ppl, np.arange(5), per_row=3, seed=0)
    assert len(pairs) > 0
    assert (ppl[pairs[:, 0]] < ppl[pairs[:, 1]]).all()
    again = perplexity_pairs(ppl, np.arange(5), per_row=3, seed=0)
    np.testing.assert_array_equal(pairs, again)


def test_bad_params_are_refused():
    with pytest.raises(ValueError, match="sample_size"):
        DistillParams(sample_size=0)


def test_a_distilled_tiny_ranker_learns_its_teachers_order(tiny_models, tmp_path):
    import pandas as pd

    from scar_dagster.storage import tables

    short = [f"ok {i}" for i in range(20)]
    long = [" ".join(["many more words here"] * 6) + f" {i}" for i in range(20)]
    responses = short + long
    ids = [f"{i:03d}" for i in range(40)]
    pool = SelectorPool(
        ids=ids, sources=["s"] * 40, instructions=["Answer briefly."] * 40, responses=responses
    )
    # the teacher: short answers are the predictable ones (planted in the perplexity store)
    teacher = PerplexityLM(
        identity="planted",
        load=lambda: pytest.fail("the teacher's values are stored"),
        precision="cpu/float32",
    )
    engine = tables.create_engine_for(f"sqlite:///{tmp_path}/scar.db")
    tables.ensure_schema(engine)
    planted = [1.0 + i / 100 for i in range(20)] + [9.0] * 20
    tables.upsert_surprisal(
        engine,
        pd.DataFrame(
            {
                "id": ids,
                "model_version": teacher.version,
                "kind": "conditional",
                "perplexity": planted,
                "truncated": False,
            }
        ),
    )
    params = DistillParams(sample_size=40, pairs_per_row=4, epochs=3, batch_size=8, lr=1e-3)
    selector = DistilledSelector(teacher, tiny_models.fresh_ranker, params, store=engine)
    scores = selector.scores(pool, 10)
    assert scores[:20].mean() > scores[20:].mean()
    assert selector.training == {"sample": 40, "pairs": selector.training["pairs"]}
    again = DistilledSelector(teacher, tiny_models.fresh_ranker, params, store=engine)
    np.testing.assert_allclose(scores, again.scores(pool, 10), rtol=1e-5)
    engine.dispose()
