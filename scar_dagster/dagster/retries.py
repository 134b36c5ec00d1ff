"""The retry policy of steps that talk to the database or object storage.

Their writes are idempotent (upserts keyed by pair id and ranker version, a subset version's
decisions replaced in one transaction, whole-object puts of content-derived files), so a step
that failed on a dropped connection or a 5xx is simply run again. Object-storage calls are
also retried inside the step by botocore (``S3Resource.max_attempts``).

Defaults: 3 retries, 0.5 s base delay, exponential backoff (0.5, 1.5, 3.5 s) with +/- 0.5 s
jitter. Override with ``SCAR_RETRY_MAX_RETRIES`` and ``SCAR_RETRY_DELAY_SECONDS`` (read when
the code location loads). Errors that a retry cannot fix (a tampered checkpoint, an invalid
source name) are raised inside ``permanent_errors`` and fail the step at once.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Backoff, Failure, Jitter, RetryPolicy

DEFAULT_MAX_RETRIES = 3
DEFAULT_DELAY_SECONDS = 0.5


def io_retry_policy(max_retries: int | None = None, delay: float | None = None) -> RetryPolicy:
    """A ``RetryPolicy`` with exponential backoff; unset arguments come from the environment."""
    if max_retries is None:
        max_retries = int(os.environ.get("SCAR_RETRY_MAX_RETRIES", DEFAULT_MAX_RETRIES))
    if delay is None:
        delay = float(os.environ.get("SCAR_RETRY_DELAY_SECONDS", DEFAULT_DELAY_SECONDS))
    if max_retries < 0 or delay < 0:
        raise ValueError(f"retries and delay must be >= 0, got {max_retries} and {delay}")
    return RetryPolicy(
        max_retries=max_retries,
        delay=delay,
        backoff=Backoff.EXPONENTIAL,
        jitter=Jitter.PLUS_MINUS if delay else None,
    )


IO_RETRY_POLICY = io_retry_policy()


@contextmanager
def permanent_errors(*errors: type[Exception]) -> Iterator[None]:
    """Turn ``errors`` into a ``Failure`` that the step's ``RetryPolicy`` does not retry."""
    try:
        yield
    except errors as error:
        raise Failure(description=str(error), allow_retries=False) from error
