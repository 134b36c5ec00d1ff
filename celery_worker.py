"""The Celery app of a ``dagster-celery`` worker for this code location.

Run a worker from the project folder (or with it on ``PYTHONPATH``), with the environment of the
code location (``SCAR_HOME``, ``SCAR_DATABASE_URL``, ``SCAR_SHARDS``, ``SCAR_CELERY_*``, S3
credentials)::

    celery -A celery_worker worker -Q dagster --concurrency 1 --prefetch-multiplier 1 -n w1@%h

The app is configured exactly as the executor of ``SCAR_EXECUTOR=celery`` (same broker, result
backend, late acknowledgement and visibility timeout: ``scar_dagster.dagster.executors``).
"""

from definitions import celery_settings
from scar_dagster.dagster.executors import celery_worker_app

app = celery_worker_app(celery_settings())
