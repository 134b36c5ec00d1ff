"""Static guarantees: no unpickling loads, loopback-only UI, keys that cannot escape the root."""

import re
from pathlib import Path

import pytest

from scar_dagster.storage.stores import LocalStore, check_key

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    p for folder in ("scar_dagster", "assets", "scripts") for p in (ROOT / folder).rglob("*.py")
] + [ROOT / "definitions.py"]


def _code_lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")]


@pytest.mark.parametrize(
    "pattern",
    [r"\bimport pickle\b", r"pickle\.loads?\(", r"\bdill\b", r"yaml\.load\(", r"(?<![.\w])eval\("],
)
def test_no_unsafe_deserialization(pattern):
    hits = [
        f"{p.relative_to(ROOT)}: {line.strip()}"
        for p in SOURCES
        for line in _code_lines(p)
        if re.search(pattern, line)
    ]
    assert hits == []


def test_every_torch_load_is_weights_only():
    hits = [
        f"{p.relative_to(ROOT)}: {line.strip()}"
        for p in SOURCES
        for line in _code_lines(p)
        if "torch.load(" in line and "weights_only=True" not in line
    ]
    assert hits == []


def test_dagster_dev_binds_loopback_only():
    dev = next(
        line for line in (ROOT / "Makefile").read_text().splitlines() if "dagster dev" in line
    )
    assert "--host 127.0.0.1" in dev


@pytest.mark.parametrize("key", ["../x", "a/../../x", "/etc/passwd", "a//b", ""])
def test_storage_keys_cannot_escape_the_root(tmp_path, key):
    with pytest.raises(ValueError):
        check_key(key)
    with pytest.raises(ValueError):
        LocalStore(tmp_path / "root").write_bytes(key, b"x")
    assert not (tmp_path / "x").exists()


PG_SECRET = "pg-Secret-7f3a9c"
S3_SECRET = "s3-Secret-b21e04"


def test_secrets_never_reach_metadata_events_or_logs(
    tmp_path, monkeypatch, capfd, s3_endpoint, postgres_url
):
    """A run on S3 + PostgreSQL with secrets from EnvVar: no event, metadata or log shows them."""
    import json

    from dagster import DagsterInstance, EnvVar
    from dagster_aws.s3 import S3Resource
    from sqlalchemy import make_url

    from scar_dagster.dagster.resources import DatabaseResource
    from scar_dagster.storage.stores import S3Store
    from tests.moto_server import reset_moto
    from tests.pipeline import failure_text, materialize_group, run_config, s3_resources
    from tests.planted import TOPICS, guide
    from tests.tiny_models import publish_tiny_ranker

    reset_moto(s3_endpoint)
    db_url = make_url(postgres_url).set(password=PG_SECRET).render_as_string(hide_password=False)
    monkeypatch.setenv("SCAR_TEST_DB_URL", db_url)  # trust auth: the password is ignored
    monkeypatch.setenv("SCAR_TEST_S3_SECRET", S3_SECRET)  # moto accepts any secret
    s3 = S3Resource(
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key=EnvVar("SCAR_TEST_S3_SECRET"),
    )
    client = s3.model_copy(update={"aws_secret_access_key": "setup"}).get_client()
    for bucket in ("landing", "curated"):
        client.create_bucket(Bucket=bucket)
    rows = [{"prompt": f"How do I {t}?", "response": guide(t)} for t in TOPICS[:6]]
    body = "".join(json.dumps(row) + "\n" for row in rows).encode()
    client.put_object(Bucket="landing", Key="zone/forum/a.jsonl", Body=body)

    res = s3_resources(s3, "s3://curated/root", "s3://landing/zone", tmp_path)
    res["database"] = DatabaseResource(url=EnvVar("SCAR_TEST_DB_URL"))
    # A published tiny champion, so scoring and selection run without training.
    local = tmp_path / "local_root"
    version = publish_tiny_ranker(local, tmp_path)
    store = S3Store(client, "curated", "root")
    for path in sorted(p for p in local.rglob("*") if p.is_file()):
        store.write_bytes(path.relative_to(local).as_posix(), path.read_bytes())
    store.write_bytes(
        "assets/style_ranker.json", json.dumps({"champion_version": version}).encode()
    )

    config = run_config(tmp_path / "unused.jsonl", top_k=2)
    texts: list[str] = []
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", ["forum"])
        results = [
            materialize_group(instance, res, config, ["ingest", "features"], "forum"),
            materialize_group(instance, res, config, ["scoring"], "forum"),
            materialize_group(instance, res, config, ["selection"], raise_on_error=False),
        ]
        for result in results:
            texts += [repr(event) for event in instance.all_logs(result.run_id)]
            texts += [repr(event) for event in result.all_events]
    texts.append(capfd.readouterr().err)
    everything = "\n".join(texts)
    assert results[1].success
    assert results[2].asset_materializations_for_node("selected_subset"), failure_text(results[2])
    masked = make_url(db_url).render_as_string(hide_password=True)
    assert masked in everything  # the URL is shown (scored_pairs metadata), masked
    assert PG_SECRET not in everything
    assert S3_SECRET not in everything
