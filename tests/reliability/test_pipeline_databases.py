"""scored_pairs and the selection on PostgreSQL, with two partitions scored concurrently."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from dagster import DagsterInstance

from scar_dagster.storage import tables
from tests.pipeline import (
    materialize_group,
    resources,
    run_config,
    write_landing,
    write_quadruples,
)


def _score(home, landing, database_url, config, source):
    """One partition's scoring in its own Dagster instance (as two run workers would)."""
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", [source])
        res = resources(home, landing, database_url)
        return materialize_group(instance, res, config, ["scoring"], source)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_partitions_then_selection(tmp_path, backend, request):
    url = (
        request.getfixturevalue("postgres_url")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path / 'scar.db'}"
    )
    landing, home = tmp_path / "landing", tmp_path / "home"
    home.mkdir()
    write_landing(landing)
    config = run_config(write_quadruples(tmp_path / "quads.jsonl"), top_k=8)
    res = resources(home, landing, url)
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("data_source", ["forum", "guides"])
        for source in ("forum", "guides"):
            assert materialize_group(instance, res, config, ["ingest", "features"], source).success
        assert materialize_group(instance, res, config, ["ranker"]).success
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [
                pool.submit(_score, home, landing, url, config, source)
                for source in ("forum", "guides")
            ]
            assert all(f.result().success for f in futures)
        engine = res["database"].get_engine()
        selection = materialize_group(instance, res, config, ["selection"])
        assert selection.success
    meta = {
        k: v.value
        for k, v in selection.asset_materializations_for_node("selected_subset")[0].metadata.items()
    }
    scores = tables.read_scores(engine, meta["ranker_version"])
    assert len(scores) == scores["id"].nunique() == 31
    assert scores.groupby("source").size().to_dict() == {"forum": 16, "guides": 15}
    decisions = tables.read_decisions(engine, meta["subset_version"])
    assert int(decisions["selected"].sum()) == 8
