# realname-guard: `make demo` runs the whole job on a generated world; `make test` runs the tests.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
DEMO_DIR ?= demo
DEMO_PERSONS ?= 20000
DEMO_RUN_DATE ?= 2026-06-30

.PHONY: venv demo cluster-demo system-test airflow-check test lint bench worlds clean help browser

help:
	@echo "make demo   - set up, generate a $(DEMO_PERSONS)-person world, run the whole job (outputs under $(DEMO_DIR)/)"
	@echo "make cluster-demo - the same job through spark-submit on a standalone cluster (2 workers, loopback)"
	@echo "make test   - set up and run the test suite"
	@echo "make system-test - the job on a standalone cluster, and after kill -9 + --resume, equals local mode"
	@echo "make airflow-check - Airflow 3 in its own venv imports the DAG and runs it for one date"
	@echo "make lint   - ruff + mypy + the import-linter layer contracts"
	@echo "make bench  - benchmark 100k and 1M-person worlds (results: benchmarks/results/latest.md)"
	@echo "make worlds - the whole job on every generator setting of conf/worlds/, judged by each world's truth"

$(STAMP): setup.py
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11) on PATH"; exit 1; }
	@java -version >/dev/null 2>&1 || { echo "need Java 17 (java on PATH) for Spark"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@bash scripts/demo.sh "$(DEMO_DIR)" "$(DEMO_PERSONS)" "$(DEMO_RUN_DATE)"

cluster-demo: $(STAMP)
	@bash scripts/cluster_demo.sh cluster-demo 5000 "$(DEMO_RUN_DATE)"

# Two pytest workers (pytest-xdist), whole files each, the whole-job files first (tests/conftest.py):
# the suite's Spark work is small and latency-bound enough that two JVMs overlap usefully on 2 cores.
test: lint browser
	$(VENV)/bin/pytest -q -n 2 --dist loadfile --durations=15 -m 'not cluster and not faults' tests

# The system tests (tests/pipelines/system.py): the job through spark-submit on a standalone cluster
# (2 one-core workers, loopback) and after kill -9 at each stage + --resume, each against an
# undisturbed local-mode run, row for row. .ci/run runs them after `make test`.
system-test: $(STAMP)
	$(VENV)/bin/pytest -q -m 'cluster or faults' --durations=5 tests/pipelines/test_cluster.py tests/pipelines/test_faults.py

# Airflow 3 in an environment of its own (.airflow-venv, conf/airflow-constraints.txt): the DAG
# imports with no errors and `airflow dags test` runs one date in local mode. .ci/run runs it.
airflow-check: $(STAMP)
	@bash scripts/airflow_check.sh

# Debian's chromium, for the tests that render report.html headless with the network off.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium (apt-get) for the browser tests"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy realname_guard core features models jobs pipelines policy quality generator benchmarks
	@# The import contracts (pyproject.toml) read the installed layout: build it, check from inside it.
	rm -rf build/lint && $(PY) setup.py -q build_py --build-lib build/lint 2>/dev/null
	cd build/lint && PYTHONPATH=$$PWD $(CURDIR)/$(VENV)/bin/lint-imports --no-cache $(CURDIR)/pyproject.toml

bench: $(STAMP)
	$(PY) -m benchmarks.harness --sizes 100000,1000000 --out benchmarks/results

WORLDS_PERSONS ?= 20000
WORLDS ?= demo,scarce-negatives,loud-confounders,blind:default,blind:harsh
worlds: $(STAMP)
	$(PY) scripts/worlds.py --persons $(WORLDS_PERSONS) --worlds $(WORLDS) --out worlds-out

clean:
	rm -rf $(DEMO_DIR) .pytest_cache airflow-check .airflow-venv
