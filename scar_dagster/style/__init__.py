"""Style features of instruction/response pairs (SCAR, arXiv 2406.10882); never imports dagster.

Importing this package is cheap: torch and transformers load only when a model is used.
"""

from __future__ import annotations

from scar_dagster.style.consistency import style_consistency as style_consistency
from scar_dagster.style.feature_writer import FeaturesFile as FeaturesFile
from scar_dagster.style.feature_writer import write_style_features as write_style_features
from scar_dagster.style.features import FEATURES_EMPTY_RESPONSE as FEATURES_EMPTY_RESPONSE
from scar_dagster.style.features import FEATURES_NO_WORDS as FEATURES_NO_WORDS
from scar_dagster.style.features import FEATURES_TOO_LONG as FEATURES_TOO_LONG
from scar_dagster.style.features import STYLE_FEATURE_COLUMNS as STYLE_FEATURE_COLUMNS
from scar_dagster.style.features import StyleFeatureParams as StyleFeatureParams
from scar_dagster.style.features import compute_style_features as compute_style_features
from scar_dagster.style.form import FORM_FEATURE_COLUMNS as FORM_FEATURE_COLUMNS
from scar_dagster.style.form import compute_form_features as compute_form_features
from scar_dagster.style.form import form_features_frame as form_features_frame
from scar_dagster.style.surprisal import relatedness as relatedness
from scar_dagster.style.surprisal import response_perplexity as response_perplexity
from scar_dagster.style.surprisal_cache import PerplexityLM as PerplexityLM
from scar_dagster.style.surprisal_cache import PerplexityValues as PerplexityValues
from scar_dagster.style.surprisal_cache import perplexity_for as perplexity_for
