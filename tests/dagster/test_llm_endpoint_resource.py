"""LLMEndpointResource: its defaults are the client's, and it builds a cached client."""

import dataclasses

import pytest
from dagster import EnvVar, build_resources

from scar_dagster.dagster.resources import LLMEndpointResource
from scar_dagster.llm.client import EndpointSettings
from scar_dagster.storage.stores import LocalStore


def test_resource_defaults_are_the_client_defaults():
    settings = {f.name: f.default for f in dataclasses.fields(EndpointSettings)}
    resource = LLMEndpointResource(model="m")
    for name in ("temperature", "max_tokens", "timeout_s", "max_concurrency", "retries"):
        assert getattr(resource, name) == settings[name], name
    assert resource.temperature == 0.0 and resource.api_key is None


def test_get_client_maps_every_field_and_caches_under_the_storage_root(tmp_path, monkeypatch):
    monkeypatch.setenv("SCAR_TEST_LLM_KEY", "sk-test-secret")
    resource = LLMEndpointResource(
        base_url="http://127.0.0.1:9/v1",
        model="m",
        api_key=EnvVar("SCAR_TEST_LLM_KEY"),
        max_tokens=77,
        max_concurrency=3,
        retries=2,
    )
    with build_resources({"llm_endpoint": resource}) as built:  # resolves the EnvVar, as a run
        client = built.llm_endpoint.get_client(LocalStore(tmp_path))
    assert client.settings.api_key == "sk-test-secret" and client.settings.max_tokens == 77
    assert (client.settings.max_concurrency, client.settings.retries) == (3, 2)
    assert client.cache is not None and client.cache.store.uri() == str(tmp_path)
    assert "sk-test-secret" not in client.name + repr(client.settings)
    uncached = LLMEndpointResource(model="m", cache=False)
    assert uncached.get_client(LocalStore(tmp_path)).cache is None


def test_an_empty_model_is_a_clear_error():
    with pytest.raises(ValueError, match="llm_endpoint.model is empty"):
        LLMEndpointResource().get_client()
