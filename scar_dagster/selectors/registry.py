"""Every selector by name, built from the models it runs and its settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from scar_dagster.selectors.base import ModelRef, Selector
from scar_dagster.selectors.distilled import DistilledSelector, DistillParams
from scar_dagster.selectors.diversity import DiversitySelector
from scar_dagster.selectors.ifd import IFDSelector, SuperfilteringSelector
from scar_dagster.selectors.length import LengthSelector
from scar_dagster.selectors.perplexity import PerplexitySelector
from scar_dagster.selectors.scar import ScarSelector
from scar_dagster.selectors.scar_diversity import DEFAULT_CANDIDATE_FACTOR, ScarDiversitySelector
from scar_dagster.selectors.seeded_random import RandomSelector

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

    ``lm``: the instruct LM (perplexity, IFD, the distilled ranker's teacher); ``proxy_lm``:
    Superfiltering's small LM (None: ``lm``, the bundled SmolLM2 by default); ``encoder``: the
    sentence encoder (diversity); ``fresh_ranker``: builds an untrained StyleRanker
    (``distilled``); ``ranker_version``: the champion whose scores ``scar`` reads, ``ranker``
    loads it (to score pairs outside the pool: held-out preference pairs).
    """

    lm: ModelRef
    encoder: ModelRef
    fresh_ranker: ModelRef
    ranker_version: str | None = None
    ranker: ModelRef | None = None
    proxy_lm: ModelRef | None = None


@dataclass(frozen=True)
class SelectorSettings:
    """Selector options that are not models (each part of its selector's version)."""

    seed: int = 0
    candidate_factor: float = DEFAULT_CANDIDATE_FACTOR
    distill: DistillParams = field(default_factory=DistillParams)
    max_tokens: int = 512


def check_selector_name(name: str, *, allow_auto: bool = True) -> str:
    """``name`` when it names a selector (or ``auto``); ValueError listing them otherwise."""
    names = (*SELECTOR_NAMES, AUTO) if allow_auto else SELECTOR_NAMES
    if name not in names:
        raise ValueError(f"unknown selector {name!r}; choose one of {', '.join(names)}")
    return name


def build_selector(
    name: str, models: SelectorModels, settings: SelectorSettings | None = None
) -> Selector:
    """The selector called ``name`` (not ``auto``: resolve it first, ``auto.resolve_auto``)."""
    settings = settings or SelectorSettings()
    check_selector_name(name, allow_auto=False)
    if name in ("scar", "scar+diversity") and not models.ranker_version:
        raise ValueError(f"selector {name} needs a StyleRanker (no champion ranker given)")
    tokens = settings.max_tokens
    if name == "scar":
        return ScarSelector(str(models.ranker_version), models.ranker)
    if name == "ifd":
        return IFDSelector(models.lm, max_tokens=tokens)
    if name == "superfiltering":
        proxy = models.proxy_lm or ModelRef(
            f"{models.lm.label} (no proxy_lm given: the instruct LM)", models.lm.load
        )
        return SuperfilteringSelector(proxy, max_tokens=tokens)
    if name == "perplexity":
        return PerplexitySelector(models.lm, max_tokens=tokens)
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
    return DistilledSelector(models.lm, models.fresh_ranker, settings.distill, max_tokens=tokens)
