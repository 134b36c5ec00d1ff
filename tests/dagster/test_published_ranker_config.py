"""``style_ranker.config.published_ranker`` names a published SCAR ranker; ``pretrained`` is its
deprecated alias: still read, with a warning in the run's log."""

import logging

import pytest
from dagster import DagsterInstance, asset, materialize
from pydantic import ValidationError

from scar_dagster.dagster.run_config import RankerTrainingConfig

FOLDER = "/models/scar-roberta-base"


def test_published_ranker_is_read_without_a_warning(caplog):
    with caplog.at_level(logging.WARNING):
        config = RankerTrainingConfig(published_ranker=FOLDER)
    assert config.published_ranker == FOLDER
    assert "deprecated" not in caplog.text


def test_pretrained_still_works_and_warns(caplog):
    with caplog.at_level(logging.WARNING):
        config = RankerTrainingConfig(pretrained=FOLDER)
    assert config.published_ranker == FOLDER
    assert config.pretrained is None  # one field to read: the asset reads published_ranker
    assert "`pretrained` is deprecated" in caplog.text and FOLDER in caplog.text


def test_no_ranker_by_default_and_no_warning(caplog):
    with caplog.at_level(logging.WARNING):
        config = RankerTrainingConfig()
    assert config.published_ranker is None and not caplog.records


def test_both_names_must_agree():
    assert RankerTrainingConfig(pretrained=FOLDER, published_ranker=FOLDER).published_ranker
    with pytest.raises(ValidationError, match="disagree"):
        RankerTrainingConfig(pretrained=FOLDER, published_ranker="/models/other")


@asset
def ranker_source(config: RankerTrainingConfig) -> str:
    return config.published_ranker or "trained"


@pytest.mark.parametrize("key", ["published_ranker", "pretrained"])
def test_a_run_accepts_both_keys_and_logs_the_deprecation(key):
    instance = DagsterInstance.ephemeral()
    result = materialize(
        [ranker_source],
        instance=instance,
        run_config={"ops": {"ranker_source": {"config": {key: FOLDER}}}},
    )
    assert result.success and result.output_for_node("ranker_source") == FOLDER
    messages = [record.user_message for record in instance.all_logs(result.run_id)]
    warned = [m for m in messages if "`pretrained` is deprecated" in m]
    assert bool(warned) is (key == "pretrained"), messages
