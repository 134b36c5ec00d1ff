"""The ranker stage's run config turned into library calls: the training data read or generated
(``ranker_training_data``), a ranker trained or imported and put through the champion gate
(``style_ranker``), and the champion that the stages downstream need."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pandas as pd
from dagster import Failure

from scar_dagster.dagster.partitions import concat_partitions
from scar_dagster.dagster.run_config import RankerTrainingConfig, TrainingDataConfig
from scar_dagster.dagster.training_backends import TrainingBackends
from scar_dagster.storage.stores import BlobStore

if TYPE_CHECKING:
    from scar_dagster.ranker.data.sourcing import TrainingData
    from scar_dagster.ranker.model.service import RankerDecision


def read_or_generate_training_data(
    config: TrainingDataConfig,
    raw_pairs: Mapping[str, pd.DataFrame | None] | None,
    backends: TrainingBackends,
    *,
    default_location: str,
    log: Any,
) -> tuple[TrainingData, float | None]:
    """``(data, failure_share)``: quadruples generated from a sample of ``raw_pairs`` (every
    source's) with ``backends`` (a ``Failure`` with the endpoint's usage when too many requests
    failed), else the data at the configured location (``default_location`` when unset; s3://
    read with the client of ``backends.storage``) with ``failure_share`` None."""
    from scar_dagster.ranker.data.sourcing import generate_training_data, load_training_data
    from scar_dagster.ranker.data.training_data import TooManyFailures, check_failure_share

    if config.generate:
        data, build = generate_training_data(
            concat_partitions(raw_pairs),
            backends.chat(config.generation_backend),
            backends.judge,
            sample_size=config.sample_size,
            seed=config.seed,
            prompts=backends.prompts,
            log=log,
        )
        try:
            check_failure_share(build, config.max_failure_share)
        except TooManyFailures as error:
            raise Failure(str(error), metadata=backends.usage_metadata()) from error
        return data, build.failure_share
    location = config.location(default_location)
    client = backends.storage.s3.get_client() if location.startswith("s3://") else None
    data = load_training_data(
        location, s3_client=client, quality=config.quality, judge=backends.judge
    )
    return data, None


def train_or_import_ranker(
    config: RankerTrainingConfig,
    records: list[Any],
    store: BlobStore,
    *,
    encoder_model: str,
    cache_dir: str,
    min_accuracy: float,
    log: Any,
) -> RankerDecision:
    """Import the published ranker ``config.published_ranker`` or train one on ``records`` (with the
    encoder ``encoder_model``), publish it to ``store`` and run the champion/challenger gate."""
    from scar_dagster.ranker.model import service

    common = {
        "params": config.to_params(),
        "cache_dir": cache_dir,
        "min_accuracy": min_accuracy,
        "log": log.info,
    }
    if config.published_ranker:
        return service.import_and_promote(
            store,
            config.published_ranker,
            records,
            encoder=config.encoder,
            trust_remote_code=config.trust_remote_code,
            max_length=config.max_length,
            **common,
        )
    ranker_config = config.to_ranker_config(encoder_model)
    return service.train_and_promote(
        store,
        records,
        config=ranker_config,
        trust_remote_code=config.trust_remote_code,
        **common,
    )


def champion_version(style_ranker: Mapping[str, Any]) -> str:
    """The champion's version in the value of ``style_ranker``; a ``Failure`` (not retried)
    when no ranker has passed the gate yet."""
    version = style_ranker["champion_version"]
    if not version:
        raise Failure(
            "no promoted StyleRanker yet: materialize style_ranker until one passes",
            allow_retries=False,
        )
    return version
