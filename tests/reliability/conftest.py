"""Fixtures of the reliability tests: a clean moto S3 server behind dagster-aws S3Resource."""

import pytest
from dagster_aws.s3 import S3Resource

from tests.moto_server import reset_moto


@pytest.fixture()
def s3(s3_endpoint: str) -> S3Resource:
    """The S3Resource of the moto server, with every bucket of earlier tests removed."""
    reset_moto(s3_endpoint)
    return S3Resource(
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
