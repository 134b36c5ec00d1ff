"""SCAR_EXECUTOR picks where steps run (`dagster definitions validate` for each choice:
tests/dagster/test_definitions.py)."""

import sys

import pytest

import definitions
import settings
from scar_dagster.dagster.executors import (
    GPU_STEPS,
    CelerySettings,
    K8sSettings,
    build_executor,
    celery_worker_app,
)

EXTRA = {"celery": "dagster_celery", "k8s": "dagster_k8s"}


def _needs_extra(kind: str) -> None:
    if kind in EXTRA:
        pytest.importorskip(EXTRA[kind], reason="the [distributed] extra is not installed")


@pytest.mark.parametrize("kind", ["multiprocess", "celery", "k8s"])
def test_every_job_runs_on_the_chosen_executor(kind, monkeypatch):
    _needs_extra(kind)
    monkeypatch.setenv("SCAR_EXECUTOR", kind)
    defs = definitions.build_definitions(shards=2)
    for name in ("ingest_job", "scoring_job", "selection_job", "fine_tune_job"):
        assert defs.get_job_def(name).executor_def.name == kind


def test_the_default_is_multiprocess_and_a_typo_is_refused(monkeypatch):
    monkeypatch.delenv("SCAR_EXECUTOR", raising=False)
    assert settings.executor() == "multiprocess"
    monkeypatch.setenv("SCAR_EXECUTOR", "celeri")
    with pytest.raises(ValueError, match="SCAR_EXECUTOR.*multiprocess, celery, k8s"):
        settings.executor()
    monkeypatch.setenv("SCAR_CELERY_VISIBILITY_TIMEOUT", "0")
    with pytest.raises(ValueError, match="SCAR_CELERY_VISIBILITY_TIMEOUT"):
        settings.celery_visibility_timeout()
    monkeypatch.setenv("SCAR_K8S_GPU_NODE_SELECTOR", "gpu")
    with pytest.raises(ValueError, match="key=value"):
        settings.k8s_gpu_node_selector()


def test_celery_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SCAR_CELERY_BROKER", "redis://broker.internal:6380/3")
    monkeypatch.delenv("SCAR_CELERY_BACKEND", raising=False)
    monkeypatch.setenv("SCAR_CELERY_VISIBILITY_TIMEOUT", "90")
    assert definitions.celery_settings() == CelerySettings(
        "redis://broker.internal:6380/3", "redis://broker.internal:6380/1", 90
    )


def test_workers_run_the_executors_celery_configuration():
    pytest.importorskip("dagster_celery", reason="the [distributed] extra is not installed")
    celery = CelerySettings("redis://127.0.0.1:1/0", "redis://127.0.0.1:1/1", 120)
    app = celery_worker_app(celery)
    assert "execute_plan" in app.tasks  # dagster-celery's step task
    assert (app.conf.broker_url, app.conf.result_backend) == (celery.broker, celery.backend)
    for key, value in celery.app_config().items():
        assert app.conf[key] == value, key
    assert app.conf.task_acks_late and app.conf.worker_prefetch_multiplier == 1
    assert app.conf.broker_transport_options["visibility_timeout"] == 120
    executor = build_executor("celery", celery=celery)
    assert executor.name == "celery"


def test_k8s_gives_the_scoring_and_fine_tune_steps_gpu_pods():
    pytest.importorskip("dagster_k8s", reason="the [distributed] extra is not installed")
    config = K8sSettings(gpu_node_selector={"gpu": "l4"}).executor_config()
    steps = config["per_step_k8s_config"]
    assert set(steps) == set(GPU_STEPS)
    for step in steps.values():
        assert step["pod_spec_config"] == {"node_selector": {"gpu": "l4"}}
        assert step["container_config"]["resources"]["limits"] == {"nvidia.com/gpu": "1"}
    assert K8sSettings().executor_config() == {}  # no selector: no GPU pods
    defs = definitions.build_definitions(shards=1)
    jobs = (defs.get_job_def(name) for name in ("scoring_job", "fine_tune_job"))
    nodes = {node.name for job in jobs for node in job.graph.nodes}
    assert set(GPU_STEPS) <= nodes  # the names are steps of this code location


def test_a_missing_extra_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "dagster_celery", None)  # as if not installed
    with pytest.raises(ImportError, match=r"scar-dagster\[distributed\]"):
        build_executor("celery")
