"""Ranker test fixtures: a tiny random BERT ranker with the real MiniLM tokenizer, and a boto3
client of the moto S3 server."""

from __future__ import annotations

import pytest


@pytest.fixture
def tiny_ranker():
    """``(model, tokenizer)``: a seeded 1-layer BERT (hidden 32) with a random head, eval mode."""
    import torch

    from scar_dagster.ranker.model.architecture import RankerConfig, build_tiny_ranker

    torch.manual_seed(0)
    model, tokenizer = build_tiny_ranker(RankerConfig(hidden_dim=16, max_length=64))
    return model.eval(), tokenizer


@pytest.fixture
def s3_client(s3_endpoint):
    """A boto3 S3 client of the session's moto server."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
