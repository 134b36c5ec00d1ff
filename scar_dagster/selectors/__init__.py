"""Selectors: the ways to rank a pool side by side with SCAR's StyleRanker.

Each is a small module with one job behind one contract (``base.Selector``: a score per pair
id, higher first, and a version): ``scar`` (the StyleRanker), ``ifd`` and ``superfiltering``
(instruction-following difficulty), ``perplexity``, ``length``, ``random`` (seeded),
``diversity`` (k-center greedy), ``scar+diversity`` and ``distilled`` (a StyleRanker taught the
LM's perplexity). ``auto`` picks one from where the champion ranker came from. Every subset goes
through the same selection path (``scar_dagster.selection.curate``); ``comparison`` puts them
side by side. Plain Python/torch; models load only when a selector runs them. Example::

    from scar_dagster.selectors import SelectorModels, build_selector

    selector = build_selector("length", models)
    scores = selector.scores(pool, budget=1000)
"""

from scar_dagster.selectors.auto import AutoChoice as AutoChoice
from scar_dagster.selectors.auto import resolve_auto as resolve_auto
from scar_dagster.selectors.base import ModelRef as ModelRef
from scar_dagster.selectors.base import Selector as Selector
from scar_dagster.selectors.base import SelectorPool as SelectorPool
from scar_dagster.selectors.registry import AUTO as AUTO
from scar_dagster.selectors.registry import SELECTOR_NAMES as SELECTOR_NAMES
from scar_dagster.selectors.registry import SelectorModels as SelectorModels
from scar_dagster.selectors.registry import SelectorSettings as SelectorSettings
from scar_dagster.selectors.registry import build_selector as build_selector
from scar_dagster.selectors.registry import check_selector_name as check_selector_name
