"""Each run Config mirrors one core params class: their defaults must not drift apart."""

import dataclasses
import inspect

from scar_dagster.dagster.run_config import (
    IngestConfig,
    RankerTrainingConfig,
    ScoringConfig,
    SelectionConfig,
    StyleFeaturesConfig,
)
from scar_dagster.ingest.normalize import NormalizeParams
from scar_dagster.ranker.inference.scoring import score_pairs
from scar_dagster.ranker.model.architecture import RankerConfig
from scar_dagster.ranker.model.train import TrainParams
from scar_dagster.selection import SelectionParams
from scar_dagster.style.features import StyleFeatureParams


def _defaults(cls) -> dict:
    return {
        f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING
    }


def test_config_to_params_gives_the_library_defaults():
    assert IngestConfig().to_params() == NormalizeParams()
    assert StyleFeaturesConfig().to_params() == StyleFeatureParams()
    # With no cutoff set, the asset selects SCAR's 25%; everything else is the library default.
    assert SelectionConfig().to_params() == SelectionParams(ratio=0.25)


def test_ranker_config_defaults_are_the_papers():
    config = RankerTrainingConfig()
    # As the reference: every epoch is trained and the best is kept (no early stopping). The
    # asset picks device/dtype for the machine ("auto"), the library keeps cpu/float32.
    assert config.to_params() == TrainParams(device="auto", dtype="auto")
    assert _defaults(TrainParams)["early_stopping_patience"] is None
    assert config.to_ranker_config("all-MiniLM-L6-v2") == RankerConfig()


def test_scoring_config_matches_score_pairs():
    defaults = inspect.signature(score_pairs).parameters
    assert ScoringConfig().batch_size == defaults["batch_size"].default
    assert ScoringConfig().num_threads == defaults["num_threads"].default
    # None: score_pairs keeps the model's own device/dtype; the asset resolves "auto" itself.
    assert defaults["dtype"].default is None and ScoringConfig().dtype == "auto"


def test_features_read_only_what_is_read_by_default_and_old_switches_still_parse(caplog):
    import pytest

    config = StyleFeaturesConfig()
    assert (config.perplexity, config.relatedness) == ("read", "read")
    assert SelectionConfig().perplexity == "read"
    assert "perplexity" not in SelectionConfig().to_params().to_dict()  # not in the version
    old = StyleFeaturesConfig(compute_perplexity=False, compute_relatedness=True)
    assert (old.perplexity, old.relatedness) == ("off", "all")
    assert "deprecated" in caplog.text
    with pytest.raises(ValueError, match="disagree"):
        StyleFeaturesConfig(compute_perplexity=True, perplexity="off")
    with pytest.raises(ValueError, match="moved to the instruct_lm resource"):
        StyleFeaturesConfig(perplexity_max_tokens=256)
    assert old.perplexity_lm(instruct_lm=None) is None  # off: no LM is resolved
