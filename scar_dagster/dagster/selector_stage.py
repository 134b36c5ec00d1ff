"""The selection's scorer from its run config: ``selector`` (``auto`` resolved from where the
champion came from), the selector's scores computed and stored (``selector_scores``) unless
they are, and the ``ScoredBy`` that ``curate`` ranks by. Also the models and the comparison
that ``selector_comparison`` runs."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scar_dagster.dagster.ranker_metadata import champion_kind
from scar_dagster.dagster.resources import (
    DatabaseResource,
    EncoderResource,
    InstructLMResource,
    StorageResource,
)
from scar_dagster.dagster.run_config import SelectionConfig, SelectorComparisonConfig

if TYPE_CHECKING:
    from scar_dagster.selection import ScoredBy
    from scar_dagster.selectors import AutoChoice, SelectorModels
    from scar_dagster.selectors.comparison import Comparison
    from scar_dagster.selectors.run import SelectorRun


@dataclass(frozen=True)
class ChosenScores:
    """The scores a selection ranks by, the selector that made them, and why it was chosen."""

    scored_by: ScoredBy
    run: SelectorRun
    requested: str
    choice: AutoChoice | None  # None: the selector was named, not chosen by auto

    @property
    def reason(self) -> str:
        """Why this selector ranks the pool (``auto``'s reason, or that it was configured)."""
        return self.scored_by.reason


def selector_models(
    instruct_lm: InstructLMResource,
    encoder: EncoderResource,
    *,
    ranker_version: str | None,
    proxy_lm: str | None = None,
    ranker: Any = None,
) -> SelectorModels:
    """The models of the resources, each loaded when a selector first needs it (the LMs as
    perplexity runs them: the instruct LM's version is the style features')."""
    from scar_dagster.selectors import SelectorModels
    from scar_dagster.selectors.models import fresh_ranker, lazy

    return SelectorModels(
        lm=instruct_lm.perplexity_lm(),
        encoder=lazy(encoder.model, encoder.load),
        fresh_ranker=fresh_ranker(encoder.get_path()),
        ranker_version=ranker_version,
        ranker=ranker,
        proxy_lm=instruct_lm.perplexity_lm(proxy_lm) if proxy_lm else None,
    )


def choose_scores(
    config: SelectionConfig,
    context: Any,
    raw_pairs: Any,
    style_features: Any,
    ranker_version: str,
    database: DatabaseResource,
    instruct_lm: InstructLMResource,
    encoder: EncoderResource,
) -> ChosenScores:
    """Resolve ``config.selector`` (``context``: the asset's, for the champion's origin and the
    log) and have its scores stored; ``scar`` reads ``scored_pairs`` as it is (no pool read)."""
    from scar_dagster.selection import ScoredBy
    from scar_dagster.selection.cutoff import max_rows
    from scar_dagster.selectors import AUTO, SelectorSettings, build_selector, resolve_auto
    from scar_dagster.selectors.distilled import DistillParams
    from scar_dagster.selectors.pool_input import selector_pool
    from scar_dagster.selectors.run import SelectorRun, score_and_store

    instance, log, engine = context.instance, context.log, database.get_engine()
    models = selector_models(
        instruct_lm, encoder, ranker_version=ranker_version, proxy_lm=config.proxy_lm
    )
    auto = config.selector == AUTO
    choice = resolve_auto(champion_kind(instance, ranker_version)) if auto else None
    name = choice.selector if choice else config.selector
    settings = SelectorSettings(
        seed=config.seed,
        candidate_factor=config.candidate_factor,
        distill=DistillParams(sample_size=config.distill_sample_size, seed=config.seed),
    )
    selector = build_selector(name, models, settings, store=engine)
    if name == "scar":
        run = SelectorRun(ScoredBy("scar", ranker_version), 0, 0, 0.0, selector.describe())
    else:
        pool = selector_pool(
            selector, raw_pairs, style_features, engine=engine, ranker_version=ranker_version
        )
        run = score_and_store(selector, pool, max_rows(config.to_params(), len(pool)), engine)
    log.info(f"selector {run.description}: {run.computed} scored, {run.reused} reused")
    reason = choice.reason if choice else f"selector: {name} (configured)"
    scored_by = ScoredBy(run.scored_by.selector, run.scored_by.version, reason=reason)
    return ChosenScores(scored_by, run, config.selector, choice)


def run_comparison(
    config: SelectorComparisonConfig,
    context: Any,
    inputs: tuple[Any, Any, Any],
    ranker_version: str,
    database: DatabaseResource,
    storage: StorageResource,
    instruct_lm: InstructLMResource,
    encoder: EncoderResource,
) -> Comparison:
    """``selector_comparison``: each configured selector's subset of the pool (``inputs``:
    raw_pairs, raw_quarantine frame, style_features) side by side. It runs in a scratch
    database seeded with the champion's scores, so the subset versions it makes and their
    exports never mix with ``selected_subset``'s; perplexities (a cache keyed by pair and LM
    version) come from and go to the project database, where the features' already are."""
    from scar_dagster.evaluation.accuracy import read_pairs
    from scar_dagster.ranker.model import registry
    from scar_dagster.selection import SelectionParams
    from scar_dagster.selection.perplexity import PerplexityReads
    from scar_dagster.selectors import SelectorSettings, build_selector, check_selector_name
    from scar_dagster.selectors.comparison import compare_selectors
    from scar_dagster.selectors.models import lazy
    from scar_dagster.storage import tables
    from scar_dagster.storage.stores import LocalStore

    names = [check_selector_name(name, allow_auto=False) for name in config.selectors]
    store = storage.asset_store()
    ranker = lazy(
        ranker_version,
        lambda: registry.load_from_store(store, ranker_version, instruct_lm.cache_dir),
    )
    models = selector_models(
        instruct_lm, encoder, ranker_version=ranker_version, proxy_lm=config.proxy_lm, ranker=ranker
    )
    perplexities = database.get_engine()  # the perplexity store: the features' values reused
    settings = SelectorSettings(seed=config.seed)
    selectors = [build_selector(n, models, settings, store=perplexities) for n in names]
    pairs, quarantine, features = inputs
    with tempfile.TemporaryDirectory(prefix="scar-comparison-") as work:
        engine = tables.create_engine_for(f"sqlite:///{work}/comparison.db")
        tables.ensure_schema(engine)
        stored = tables.read_scores(database.get_engine(), ranker_version)
        tables.upsert_scores(engine, stored[["id", "ranker_version", "source", "score"]])
        comparison = compare_selectors(
            selectors,
            pairs=pairs,
            quarantine=quarantine,
            features=features,
            params=SelectionParams(ratio=config.ratio, seed=config.seed),
            engine=engine,
            store=LocalStore(work),
            prefix="subsets",
            folder=Path(work) / "work",
            ranker_version=ranker_version,
            heldout=read_pairs(config.pairs_path) if config.pairs_path else None,
            perplexity=PerplexityReads(lm=models.lm, store=perplexities),
            log=context.log,
        )
        engine.dispose()
    return comparison
