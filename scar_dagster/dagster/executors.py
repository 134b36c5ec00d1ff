"""The executor of every job: ``multiprocess`` (one machine), ``celery`` or ``k8s`` (a cluster).

``build_executor`` returns the executor definition for one of ``EXECUTORS``;
``definitions.build_definitions`` passes it what ``settings.executor()`` (``$SCAR_EXECUTOR``)
says. The same assets run under each: only where a step runs changes. ``celery`` and ``k8s``
need the optional extra ``pip install 'scar-dagster[distributed]'`` (``dagster-celery``,
``dagster-k8s``, ``redis``).

Celery (``CelerySettings``): a Redis broker and result backend; a step's message is
acknowledged only when the step has finished (``task_acks_late``), so a worker that dies in the
middle of a step (SIGKILL, a lost machine) leaves the message unacknowledged and Redis hands it
to another worker once ``visibility_timeout_s`` has passed since it was delivered; a worker whose
pool process dies requeues the step at once (``task_reject_on_worker_lost``). Each worker holds
one message at a time (prefetch 1), so nothing else is stranded with a dead worker. Publishing
and result reads retry through a broker restart. A step still running after
``visibility_timeout_s`` is handed out a second time: set it above the longest step (its
writes are idempotent, so a second run wastes time but changes no result). The workers run
``celery_worker_app``, which is configured from the same ``CelerySettings`` as the executor.

Kubernetes (``K8sSettings``): ``k8s_job_executor`` runs every step as its own Kubernetes job
(image, namespace and environment from the ``K8sRunLauncher`` in ``dagster.yaml``), with a GPU
node selector and GPU limit for the steps in ``gpu_steps``. Configured and validated here; no
cluster ran it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dagster import ExecutorDefinition, multiprocess_executor

EXECUTORS = ("multiprocess", "celery", "k8s")
EXTRA_HINT = "install the optional extra: pip install 'scar-dagster[distributed]'"
GPU_STEPS = ("scored_pairs", "fine_tuned_model")  # scoring and fine-tuning


def check_executor(kind: str) -> str:
    """Return ``kind`` if it is one of ``EXECUTORS``, else raise ``ValueError``."""
    if kind not in EXECUTORS:
        raise ValueError(f"the executor must be one of {', '.join(EXECUTORS)}, got {kind!r}")
    return kind


@dataclass(frozen=True)
class CelerySettings:
    """Where the Celery broker and result backend are, and when a lost step is handed out
    again."""

    broker: str = "redis://127.0.0.1:6379/0"
    backend: str = "redis://127.0.0.1:6379/1"
    visibility_timeout_s: int = 6 * 3600

    def app_config(self) -> dict[str, Any]:
        """Celery settings of the executor's app and of every worker's."""
        if self.visibility_timeout_s < 1:
            raise ValueError(f"visibility_timeout_s must be >= 1, got {self.visibility_timeout_s}")
        sweep = max(1, min(10, self.visibility_timeout_s // 4))
        patient = {"max_retries": 60, "interval_start": 0, "interval_step": 0.5, "interval_max": 2}
        return {
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "broker_transport_options": {
                **patient,
                "visibility_timeout": self.visibility_timeout_s,
                "unacked_restore_interval": sweep,  # seconds between sweeps for lost messages
                "unacked_restore_throttle": 1,
            },
            "broker_connection_retry_on_startup": True,
            "broker_connection_max_retries": None,  # a worker waits for its broker forever
            "task_publish_retry": True,
            "task_publish_retry_policy": patient,
            "result_backend_always_retry": True,
            "result_backend_max_retries": 60,
            "result_backend_max_sleep_between_retries_ms": 2000,
            "redis_retry_on_timeout": True,
            "result_backend_transport_options": {"retry_policy": patient},
        }

    def executor_config(self) -> dict[str, Any]:
        """The ``celery_executor`` config (the same for ``dagster-celery`` workers)."""
        return {"broker": self.broker, "backend": self.backend, "config_source": self.app_config()}


@dataclass(frozen=True)
class K8sSettings:
    """The per-step Kubernetes settings that are ours to set: the GPU steps' node selector and
    GPU count (everything else comes from the ``K8sRunLauncher`` of ``dagster.yaml``)."""

    gpu_node_selector: dict[str, str] = field(default_factory=dict)
    gpus_per_step: int = 1
    gpu_steps: tuple[str, ...] = GPU_STEPS

    def executor_config(self) -> dict[str, Any]:
        """The ``k8s_job_executor`` config: GPU pods for ``gpu_steps`` when a selector is set."""
        if not self.gpu_node_selector:
            return {}
        gpu = {
            "pod_spec_config": {"node_selector": dict(self.gpu_node_selector)},
            "container_config": {
                "resources": {"limits": {"nvidia.com/gpu": str(self.gpus_per_step)}}
            },
        }
        return {"per_step_k8s_config": {step: gpu for step in self.gpu_steps}}


def build_executor(
    kind: str, celery: CelerySettings | None = None, k8s: K8sSettings | None = None
) -> ExecutorDefinition:
    """The executor definition for ``kind`` (one of ``EXECUTORS``)."""
    if check_executor(kind) == "multiprocess":
        return multiprocess_executor
    if kind == "celery":
        celery_executor = _extra("dagster_celery").celery_executor
        return celery_executor.configured((celery or CelerySettings()).executor_config())
    k8s_job_executor = _extra("dagster_k8s").k8s_job_executor
    return k8s_job_executor.configured((k8s or K8sSettings()).executor_config())


def celery_worker_app(settings: CelerySettings) -> Any:
    """The Celery app a ``dagster-celery`` worker runs, configured as the executor's (same
    broker, backend and settings) and with dagster-celery's step task registered."""
    _extra("dagster_celery")
    from dagster_celery.executor import CeleryExecutor
    from dagster_celery.make_app import make_app
    from dagster_celery.tasks import create_task

    config = settings.executor_config()
    app = make_app(CeleryExecutor.for_cli(**config).app_args())
    create_task(app)
    return app


def _extra(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(f"{module} is missing: {EXTRA_HINT}") from error
