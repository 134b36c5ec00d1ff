"""The perplexity the selection reads (``perplexity: all | read | off``) on planted pools of the
bundled sample's size, with a tiny LM: ``read`` gives the gate's verdicts and ratios of ``all``
within the sampling error its metadata states, the scar subset does not move, and a
re-selection reads the cache instead of calling the LM.

Two pools: two styles (structured answers of a small vocabulary that the ranker prefers and
the LM finds less surprising, and terse answers of another; the gate passes on TTR, MTLD and
perplexity and fails on length), and a pool of random metrics and scores (every std fails)."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pandas as pd
import pytest

from scar_dagster import schema
from scar_dagster.dagster.resources import CheckThresholdsResource
from scar_dagster.dagster.subset_metadata import style_gate_specs
from scar_dagster.quality.expectations import run_expectations
from scar_dagster.selection import SelectionParams, curate
from scar_dagster.selection.perplexity import PerplexityReads
from scar_dagster.storage import tables
from scar_dagster.storage.stores import LocalStore
from scar_dagster.style.features import StyleFeatureParams, compute_style_features
from tests.selection_pool import RANKER, planted_pairs
from tests.tiny_models import tiny_perplexity_lm

POOL_ROWS = 700  # about the bundled sample's kept pairs
LETTERS = "abcdefghijklmnopqrstuvwxyz"
_RNG = random.Random(3)
STRUCTURED = tuple("".join(_RNG.choice(LETTERS[:13]) for _ in range(5)) for _ in range(40))
TERSE = tuple(
    "".join(_RNG.choice(LETTERS[13:]) for _ in range(_RNG.randint(2, 9))) for _ in range(400)
)


def two_styles(n: int = POOL_ROWS, seed: int = 3) -> tuple[pd.DataFrame, ...]:
    """``(pairs, features, scores)``: every other pair a structured answer (words of
    ``STRUCTURED``, 5-120 of them, scored 0.5-1), the others terse (``TERSE``, 30-60 words,
    scored below 0.45); form features computed, perplexity left to the LM."""
    rng = random.Random(seed)
    rows, scores = [], []
    for i in range(n):
        structured = i % 2 == 0
        words, k = (STRUCTURED, rng.randint(5, 120)) if structured else (TERSE, rng.randint(30, 60))
        rows.append(
            {
                "id": f"{rng.getrandbits(48):012x}",
                "source": "guides" if structured else "forum",
                "instruction": f"Explain topic {i}.",
                "response": " ".join(rng.choice(words) for _ in range(k)) + ".",
                "origin_file": "a.jsonl",
                "origin_line": i,
            }
        )
        scores.append(rng.uniform(0.5, 1.0) if structured else rng.uniform(-1.0, 0.45))
    pairs = pd.DataFrame(rows)
    form = StyleFeatureParams(perplexity="off", relatedness="off")
    features = compute_style_features(pairs, lm=None, encoder=None, params=form)
    return (
        pairs,
        features,
        pd.DataFrame({"id": pairs["id"], "source": pairs["source"], "score": scores}),
    )


POOLS = {"two-styles": two_styles, "random": lambda: planted_pairs(POOL_ROWS, seed=11)}


@pytest.fixture(scope="module", params=list(POOLS))
def planted(request):
    return POOLS[request.param]()


@pytest.fixture()
def engine(tmp_path, planted):
    engine = tables.create_engine_for(f"sqlite:///{tmp_path / 'scar.db'}")
    tables.ensure_schema(engine)
    tables.upsert_scores(engine, planted[2].assign(ranker_version=RANKER))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def lm():
    return tiny_perplexity_lm(favoured=STRUCTURED, bias=0.2, max_tokens=96, batch_tokens=1024)


def select(planted, engine, tmp_path, name, reads, **params):
    pairs, features, _ = planted
    return curate(
        pairs=pairs,
        quarantine=pd.DataFrame(columns=list(schema.QUARANTINE_COLUMNS)),
        features=features,
        ranker_version=RANKER,
        params=SelectionParams(**(params or {"ratio": 0.25})),
        engine=engine,
        store=LocalStore(tmp_path / name),
        prefix="subsets",
        folder=tmp_path / name,
        perplexity=reads,
    )


def gate(result):
    """The style gate's outcome as the asset check runs it, on the subset file."""
    metadata = {"pool_style_stats": result.pool_stats, "perplexity_reads": result.perplexity}
    subset = result.subset[list(schema.STYLE_METRICS)]
    specs = style_gate_specs(subset, metadata, CheckThresholdsResource())
    outcome = run_expectations(subset, specs, suite_name="style")
    return {r.kwargs["column"]: r for r in outcome.results}


def test_read_gives_the_verdicts_and_ratios_of_all_within_their_sampling_error(
    planted, engine, tmp_path, lm
):
    every = select(planted, engine, tmp_path, "all", PerplexityReads("all", lm=lm, store=engine))
    sampled = PerplexityReads("read", sample_rows=60, lm=lm, store=engine)
    read = select(planted, engine, tmp_path, "read", sampled)
    assert read.version == every.version  # perplexity never selects
    assert read.perplexity["rows"] == {"pool": 60, "subset": 60, "random": 60}
    assert every.perplexity["rows"]["pool"] == every.perplexity["population"]["pool"] > 600
    full, part = gate(every), gate(read)
    verdicts = {c: r.success for c, r in full.items()}
    assert verdicts == {c: r.success for c, r in part.items()}
    assert verdicts in (
        {"ttr": True, "mtld": True, "perplexity": True, "n_words": False},  # two styles
        dict.fromkeys(schema.STYLE_METRICS, False),  # random
    )
    for column in schema.STYLE_METRICS:
        exact, estimate = full[column].meta, part[column].meta
        if column != "perplexity":
            assert estimate == exact and exact["ratio_error"] == 0.0  # every row, no sampling
            continue
        assert exact["ratio_error"] == 0.0 and 0.0 < estimate["ratio_error"] < 0.5
        gap = abs(estimate["std_ratio"] / exact["std_ratio"] - 1)
        assert gap <= 3 * estimate["ratio_error"], (gap, estimate)
        assert (estimate["subset_rows"], estimate["subset_of"]) == (60, read.subset_rows)
        assert (estimate["pool_rows"], estimate["pool_of"]) == (60, exact["pool_of"])
    assert "perplexity: read (seeded samples of <= 60): pool 60 of" in read.report.notes[-1]
    assert read.report.style.loc["perplexity", "subset_count"] == 60


def test_a_reselection_reads_the_cache(planted, engine, tmp_path, lm):
    reads = PerplexityReads("read", sample_rows=50, lm=lm, store=engine)
    first = select(planted, engine, tmp_path, "first", reads)
    assert first.perplexity["computed"] > 50 and first.perplexity["reused"] == 0
    calls = lm.batches
    again = select(planted, engine, tmp_path, "again", reads)
    assert lm.batches == calls  # no LM call: every value from the cache
    assert (again.perplexity["computed"], again.perplexity["reused"]) == (
        0,
        first.perplexity["computed"],
    )
    assert again.pool_stats["perplexity"] == first.pool_stats["perplexity"]
    wider = select(planted, engine, tmp_path, "wider", reads, ratio=0.3)
    assert wider.version != first.version
    assert wider.perplexity["reused"] > wider.perplexity["computed"]  # shared sample rows
    assert lm.batches > calls


def test_off_leaves_perplexity_out_and_the_subset_as_it_is(planted, engine, tmp_path, lm):
    off = select(planted, engine, tmp_path, "off", PerplexityReads("off", lm=None, store=engine))
    given = select(planted, engine, tmp_path, "given", None)  # the features' own values
    assert off.version == given.version
    pd.testing.assert_series_equal(off.subset["id"], given.subset["id"])
    assert off.subset["perplexity"].isna().all() and off.pool_stats["perplexity"]["count"] == 0
    assert set(gate(off)) == set(schema.STYLE_METRICS) - {"perplexity"}
    assert off.report.notes[-1].startswith("perplexity: off")
    features = planted[1].set_index("id")["perplexity"]
    np.testing.assert_allclose(
        given.subset["perplexity"], features.loc[given.subset["id"]].to_numpy()
    )


def test_reads_are_checked():
    with pytest.raises(ValueError, match="perplexity must be one of"):
        PerplexityReads("some")
    with pytest.raises(ValueError, match="sample_rows"):
        PerplexityReads("read", sample_rows=0)
    assert dataclasses.replace(PerplexityReads(), mode="all").mode == "all"
