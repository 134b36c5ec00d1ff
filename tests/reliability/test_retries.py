"""Retries: transient database and S3 faults are retried; lasting ones fail clearly.

``scored_pairs``, ``selected_subset`` and ``ingest_source`` carry ``IO_RETRY_POLICY``; S3 calls
are also retried inside a step by botocore. Faults come from loopback proxies in front of the
real PostgreSQL and moto servers (``faulty_proxies``), or from a port nobody listens on.
A tampered ranker checkpoint makes scoring fail and is never used.
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from dagster import AssetSelection, DagsterEventType, DagsterInstance, materialize
from dagster_aws.s3 import S3Resource
from sqlalchemy import make_url

import definitions
from scar_dagster.dagster.resources import DatabaseResource, InstructLMResource
from scar_dagster.dagster.retries import IO_RETRY_POLICY, io_retry_policy
from scar_dagster.ranker.model import registry
from scar_dagster.storage import tables
from scar_dagster.storage.stores import LocalStore, S3Store, StorageError
from tests.faulty_proxies import DroppingTcpProxy, FaultyHttpProxy, closed_port
from tests.pipeline import failure_text, materialize_group, resources, run_config, s3_resources
from tests.planted import TOPICS, guide
from tests.tiny_models import publish_tiny_ranker

PASSWORD = "s3cr3t-Pa55"


def _events(result, kind: DagsterEventType) -> list:
    return [e for e in result.all_events if e.event_type == kind]


def _stage_scoring_inputs(home: Path, version: str, n: int = 3) -> pd.DataFrame:
    """raw_pairs, style_features and style_ranker as the IO managers would have written them."""
    home.mkdir(parents=True, exist_ok=True)
    pairs = pd.DataFrame(
        {
            "id": [f"pair{i:03d}" for i in range(n)],
            "source": "forum",
            "instruction": [f"How do I {TOPICS[i]}?" for i in range(n)],
            "response": [guide(TOPICS[i]) for i in range(n)],
            "origin_file": "a.jsonl",
            "origin_line": list(range(1, n + 1)),
        }
    )
    features = pd.DataFrame(
        {"id": pairs["id"], "n_words": 30, "ttr": 0.5, "mtld": 40.0, "perplexity": 12.0}
    )
    store = LocalStore(home)
    for asset, frame in (("raw_pairs", pairs), ("style_features", features)):
        frame.to_parquet(home / "scratch.parquet", index=False)
        store.write_bytes(f"assets/{asset}/forum.parquet", (home / "scratch.parquet").read_bytes())
    store.write_bytes(
        "assets/style_ranker.json", json.dumps({"champion_version": version}).encode()
    )
    return pairs


def _score(instance: DagsterInstance, res: dict[str, Any]):
    instance.add_dynamic_partitions("data_source", ["forum"])
    return materialize(
        assets=list(definitions.defs.assets) + list(definitions.defs.asset_checks),
        selection=AssetSelection.assets("scored_pairs"),
        partition_key="forum",
        instance=instance,
        resources=res,
        raise_on_error=False,
    )


def test_policy_is_configurable():
    policy = io_retry_policy(max_retries=5, delay=0.0)
    assert (policy.max_retries, policy.delay) == (5, 0.0)
    assert IO_RETRY_POLICY.max_retries >= 1
    for name in ("ingest_source", "scored_pairs", "selected_subset"):
        node = next(a for a in definitions.defs.assets if a.node_def.name == name)
        assert node.node_def.retry_policy == IO_RETRY_POLICY, name
    with pytest.raises(ValueError):
        io_retry_policy(max_retries=-1)


def test_unreachable_database_is_retried_then_fails_naming_the_masked_url(tmp_path):
    home = tmp_path / "home"
    _stage_scoring_inputs(home, "v0", n=0)
    url = f"postgresql+psycopg://scar:{PASSWORD}@127.0.0.1:{closed_port()}/scar"
    res = {**resources(home, tmp_path / "landing"), "database": DatabaseResource(url=url)}
    with DagsterInstance.ephemeral() as instance:
        result = _score(instance, res)
        logs = [e.message for e in instance.all_logs(result.run_id)]
    assert not result.success
    assert len(_events(result, DagsterEventType.STEP_UP_FOR_RETRY)) == IO_RETRY_POLICY.max_retries
    text = failure_text(result)
    masked = make_url(url).render_as_string(hide_password=True)
    assert f"ensure_schema failed on {masked}" in text, text
    everything = "\n".join([text, *map(str, result.all_events), *map(str, logs)])
    assert PASSWORD not in everything


def test_database_that_drops_the_first_connection_is_retried_to_success(tmp_path, postgres_url):
    home = tmp_path / "home"
    _stage_scoring_inputs(home, "v0", n=0)
    target = make_url(postgres_url)
    with DroppingTcpProxy(target.host, target.port, drop_first=1) as proxy:
        url = target.set(port=proxy.port).render_as_string(hide_password=False)
        res = {**resources(home, tmp_path / "landing"), "database": DatabaseResource(url=url)}
        with DagsterInstance.ephemeral() as instance:
            result = _score(instance, res)
    assert result.success, failure_text(result)
    assert proxy.dropped == 1 and proxy.piped >= 1
    assert len(_events(result, DagsterEventType.STEP_UP_FOR_RETRY)) == 1


def test_s3_500s_are_retried_by_botocore(s3, s3_endpoint):
    s3.get_client().create_bucket(Bucket="curated")
    with FaultyHttpProxy(s3_endpoint, fail_first=2) as proxy:
        store = S3Store(_proxied(proxy.url, max_attempts=3).get_client(), "curated", "root")
        store.write_bytes("a/b.json", b"{}")
        assert proxy.failed == 2 and proxy.forwarded == 1  # two 500s, then the PUT went through
        assert store.read_bytes("a/b.json") == b"{}"


@pytest.mark.parametrize("action", ["write", "read", "exists", "list"])
def test_s3_lasting_500s_fail_clearly_after_retries(s3, s3_endpoint, action):
    with FaultyHttpProxy(s3_endpoint, always_fail=True) as proxy:
        client = _proxied(proxy.url, max_attempts=3).get_client()
        store = S3Store(client, "curated", "root")
        with pytest.raises(StorageError, match="s3://curated/root/a"):
            _s3_action(store, action)
    # Every attempt botocore allows was made before giving up (legacy mode: 1 + max_attempts).
    assert proxy.failed == client.meta.config.retries["total_max_attempts"] == 4


@pytest.mark.parametrize("action", ["write", "read", "exists", "list"])
def test_stopped_s3_server_fails_clearly_naming_the_uri(action):
    client = _proxied(f"http://127.0.0.1:{closed_port()}", 2).get_client()
    store = S3Store(client, "curated", "root")
    with pytest.raises(StorageError, match="s3://curated/root/a"):
        _s3_action(store, action)


def _s3_action(store: S3Store, action: str) -> Any:
    if action == "write":
        return store.write_bytes("a/b.json", b"{}")
    if action == "read":
        return store.read_bytes("a/b.json")
    if action == "exists":
        return store.exists("a/b.json")
    return list(store.list("a"))


def test_ingest_on_s3_survives_500s_and_fails_clearly_when_s3_is_gone(s3, s3_endpoint, tmp_path):
    client = s3.get_client()
    for bucket in ("landing", "curated"):
        client.create_bucket(Bucket=bucket)
    rows = [{"prompt": f"How do I {t}?", "response": guide(t)} for t in TOPICS[:3]]
    body = "".join(json.dumps(row) + "\n" for row in rows).encode()
    client.put_object(Bucket="landing", Key="zone/forum/a.jsonl", Body=body)
    config = run_config(tmp_path / "unused.jsonl")
    with FaultyHttpProxy(s3_endpoint, fail_first=4) as proxy:
        res = s3_resources(_proxied(proxy.url), "s3://curated/root", "s3://landing/zone", tmp_path)
        with DagsterInstance.ephemeral() as instance:
            instance.add_dynamic_partitions("data_source", ["forum"])
            ok = materialize_group(instance, res, config, ["ingest"], "forum")
    assert ok.success and proxy.failed == 4
    assert _events(ok, DagsterEventType.STEP_UP_FOR_RETRY) == []  # botocore absorbed them

    dead = s3_resources(
        _proxied(f"http://127.0.0.1:{closed_port()}", 2),
        "s3://curated/root",
        "s3://landing/zone",
        tmp_path,
    )
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", ["forum"])
        gone = materialize_group(instance, dead, config, ["ingest"], "forum", raise_on_error=False)
    assert not gone.success
    assert len(_events(gone, DagsterEventType.STEP_UP_FOR_RETRY)) == IO_RETRY_POLICY.max_retries
    assert "s3://landing/zone/forum" in failure_text(gone)


def _proxied(endpoint: str, max_attempts: int = 5) -> S3Resource:
    return S3Resource(
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
        max_attempts=max_attempts,
    )


def _rehash(home: Path, version: str) -> None:
    """Make the store's manifest and config agree with tampered bytes (an attacker's edit)."""
    folder = home / registry.PREFIX / version
    weights, config = folder / "model.safetensors", folder / "config.json"
    document = json.loads(config.read_text())
    document["weights_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    config.write_text(json.dumps(document))
    manifest = json.loads((folder / "_SUCCESS").read_text())
    for name in manifest["files"]:
        data = (folder / name).read_bytes()
        manifest["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (folder / "_SUCCESS").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("none", None),
        ("flipped_byte", "is corrupt"),
        ("bad_header_rehashed", "not a valid safetensors file"),
        ("wrong_shapes_rehashed", "weights do not fit the model"),
        ("config_edited", "does not match its contents"),
    ],
)
def test_tampered_checkpoint_fails_scoring_and_writes_no_score(tmp_path, damage, message):
    home = tmp_path / "home"
    version = publish_tiny_ranker(home, tmp_path)
    weights = home / registry.PREFIX / version / "model.safetensors"
    if damage == "flipped_byte":
        data = bytearray(weights.read_bytes())
        data[len(data) // 2] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "bad_header_rehashed":
        weights.write_bytes(b"\xff" * 8 + weights.read_bytes()[8:])
        _rehash(home, version)
    elif damage == "wrong_shapes_rehashed":
        from safetensors.torch import load_file, save_file

        state = load_file(str(weights))
        state["score_mlp.0.weight"] = state["score_mlp.0.weight"][:, :3].clone()
        save_file(state, str(weights))
        _rehash(home, version)
    elif damage == "config_edited":
        config = home / registry.PREFIX / version / "config.json"
        document = json.loads(config.read_text())
        document["ranker"]["hidden_dim"] = 32
        config.write_text(json.dumps(document))
        _rehash(home, version)
    _stage_scoring_inputs(home, version)
    res = resources(home, tmp_path / "landing")
    res["instruct_lm"] = InstructLMResource(cache_dir=str(tmp_path / "cache"))
    with DagsterInstance.ephemeral() as instance:
        result = _score(instance, res)
    scores = tables.read_scores(res["database"].get_engine(), version)
    if message is None:
        assert result.success and len(scores) == 3  # the untampered control scores every pair
        return
    assert not result.success
    assert message in failure_text(result)
    assert scores.empty  # nothing was scored with the bad checkpoint
    assert _events(result, DagsterEventType.STEP_UP_FOR_RETRY) == []  # a retry cannot fix it
