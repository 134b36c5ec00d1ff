"""Every selector by name, built from the models it runs and its settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scar_dagster.selectors.base import ModelRef, Selector
from scar_dagster.selectors.distilled import DistilledSelector, DistillParams
from scar_dagster.selectors.diversity import DiversitySelector
from scar_dagster.selectors.ifd import IFDSelector, SuperfilteringSelector
from scar_dagster.selectors.length import LengthSelector
from scar_dagster.selectors.perplexity import PerplexitySelector
from scar_dagster.selectors.scar import ScarSelector
from scar_dagster.selectors.scar_diversity import DEFAULT_CANDIDATE_FACTOR, ScarDiversitySelector
from scar_dagster.selectors.seeded_random import RandomSelector
from scar_dagster.style.surprisal_cache import PerplexityLM

AUTO = "auto"
SELECTOR_NAMES: tuple[str, ...] = (
    "scar",
    "ifd",
    "superfiltering",
    "perplexity",
    "length",
    "random",
    "diversity",
    "scar+diversity",
    "distilled",
)


@dataclass(frozen=True)
class SelectorModels:
    """The models selectors run, each loaded only when a selector needs it.

    ``lm``: the instruct LM as perplexity runs it (perplexity, IFD, the distilled ranker's
    teacher; its ``version`` keys its values in the perplexity store); ``proxy_lm``:
    Superfiltering's small LM (its own version; None: ``lm``, the bundled SmolLM2 by default,
    whose stored values it then shares with ``ifd``); ``encoder``: the
    sentence encoder (diversity); ``fresh_ranker``: builds an untrained StyleRanker
    (``distilled``); ``ranker_version``: the champion whose scores ``scar`` reads, ``ranker``
    loads it (to score pairs outside the pool: held-out preference pairs).
    """

    lm: PerplexityLM
    encoder: ModelRef
    fresh_ranker: ModelRef
    ranker_version: str | None = None
    ranker: ModelRef | None = None
    proxy_lm: PerplexityLM | None = None


@dataclass(frozen=True)
class SelectorSettings:
    """Selector options that are not models (each part of its selector's version)."""

    seed: int = 0
    candidate_factor: float = DEFAULT_CANDIDATE_FACTOR
    distill: DistillParams = field(default_factory=DistillParams)


def check_selector_name(name: str, *, allow_auto: bool = True) -> str:
    """``name`` when it names a selector (or ``auto``); ValueError listing them otherwise."""
    names = (*SELECTOR_NAMES, AUTO) if allow_auto else SELECTOR_NAMES
    if name not in names:
        raise ValueError(f"unknown selector {name!r}; choose one of {', '.join(names)}")
    return name


def build_selector(
    name: str,
    models: SelectorModels,
    settings: SelectorSettings | None = None,
    *,
    store: Any = None,
) -> Selector:
    """The selector called ``name`` (not ``auto``: resolve it first, ``auto.resolve_auto``);
    ``store`` (a SQLAlchemy engine with ``surprisal_scores``; None: no cache) keeps the LM
    selectors' perplexities."""
    settings = settings or SelectorSettings()
    check_selector_name(name, allow_auto=False)
    if name in ("scar", "scar+diversity") and not models.ranker_version:
        raise ValueError(f"selector {name} needs a StyleRanker (no champion ranker given)")
    if name == "scar":
        return ScarSelector(str(models.ranker_version), models.ranker)
    if name == "ifd":
        return IFDSelector(models.lm, store=store)
    if name == "superfiltering":
        if models.proxy_lm is None:
            return SuperfilteringSelector(
                models.lm, store=store, proxy="none given: the instruct LM"
            )
        return SuperfilteringSelector(models.proxy_lm, store=store, proxy="given")
    if name == "perplexity":
        return PerplexitySelector(models.lm, store=store)
    if name == "length":
        return LengthSelector()
    if name == "random":
        return RandomSelector(settings.seed)
    if name == "diversity":
        return DiversitySelector(models.encoder)
    if name == "scar+diversity":
        return ScarDiversitySelector(
            models.encoder, str(models.ranker_version), candidate_factor=settings.candidate_factor
        )
    return DistilledSelector(models.lm, models.fresh_ranker, settings.distill, store=store)
