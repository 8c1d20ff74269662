# genostream — every target uses .venv, which `make install` creates (idempotently).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
THREADS ?= 8
DBT := $(BIN)/dbt
DBT_ARGS := --project-dir dbt_project --profiles-dir .
DEMO_DIR := data/demo
EXTERNAL_DIR := data/external
STAMP := $(VENV)/.installed
# The explorer's JavaScript checks (package.json: TypeScript as a type checker, pinned in package-lock.json).
NODE_STAMP := node_modules/.installed
SUPPORTED_PYTHONS := 3.11 3.12 3.13
PLUGIN_FILES := $(shell find adapters/dbt-chdb -name '*.py' -o -name '*.yml' -o -name 'pyproject.toml' | grep -v '/build/')

# Variables from .env reach dbt and the other tools too.
-include .env
# The repository keeps its own store (an installed `genostream` defaults to the user's data directory).
GENOSTREAM_CHDB_PATH ?= .genostream/chdb
export

.PHONY: install run test test-unit test-integration test-browser test-cluster test-adapter test-all lint format check-constraints load demo dbt-build dbt-docs serve bench bench-scale soak clean

install: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml constraints.txt $(PLUGIN_FILES)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/python -m pip install --quiet --no-deps --force-reinstall ./adapters/dbt-chdb
	@rm -rf adapters/dbt-chdb/build adapters/dbt-chdb/*.egg-info
	@touch $(STAMP)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make install: npm (Node.js >= 20) is needed for the explorer's checks" >&2; exit 1; }
	npm ci --no-audit --no-fund --silent
	@touch $(NODE_STAMP)

## run: install, make a demo study (unless one is in data/external/), load it, dbt build, serve on PORT, and
## ClickHouse's HTTP interface (read-only, user analyst) on GENOSTREAM_GATEWAY_CLICKHOUSE_PORT (8123); the password is
## GENOSTREAM_GATEWAY_ANALYST_PASSWORD, or a new random one, printed.
run: install
	@set -e; \
	if $(BIN)/python -m loader detect $(EXTERNAL_DIR) >/dev/null 2>&1; then study=$(EXTERNAL_DIR); \
	else \
	  if [ ! -f $(DEMO_DIR)/.complete ]; then $(BIN)/python -m loader synth $(DEMO_DIR) --preset demo && touch $(DEMO_DIR)/.complete; fi; \
	  study=$(DEMO_DIR); \
	fi; \
	$(BIN)/python -m loader load $$study; \
	$(DBT) build $(DBT_ARGS); \
	export GENOSTREAM_GATEWAY_CLICKHOUSE_PORT=$${GENOSTREAM_GATEWAY_CLICKHOUSE_PORT:-8123}; \
	if [ -z "$${GENOSTREAM_GATEWAY_ANALYST_PASSWORD:-}" ]; then \
	  export GENOSTREAM_GATEWAY_ANALYST_PASSWORD=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))'); \
	fi; \
	echo "ClickHouse HTTP interface (read-only): http://localhost:$$GENOSTREAM_GATEWAY_CLICKHOUSE_PORT" \
	  "user analyst, password $$GENOSTREAM_GATEWAY_ANALYST_PASSWORD (set GENOSTREAM_GATEWAY_ANALYST_PASSWORD to choose it)"; \
	exec $(BIN)/python -m gateway --host 0.0.0.0 --port $(PORT) --threads $(THREADS)

## test: lint, then the whole default suite (what CI runs): every tier but slow tests.
test: lint
	$(BIN)/python -m pytest -q -m "not slow"

## test-unit / test-integration / test-browser / test-cluster: one tier (its directory and marker, see
## tests/conftest.py), slow tests left out.
test-unit: install
	$(BIN)/python -m pytest -q -m "unit and not slow" tests/unit

test-integration: install
	$(BIN)/python -m pytest -q -m "integration and not slow" tests/integration

test-browser: install
	$(BIN)/python -m pytest -q -m "browser and not slow" tests/integration/browser

test-cluster: install
	$(BIN)/python -m pytest -q -m "cluster and not slow" tests/cluster

## test-adapter: dbt's adapter test framework (dbt-tests-adapter) against `type: chdb` (adapters/dbt-chdb/tests).
test-adapter: install
	cd adapters/dbt-chdb && ../../$(BIN)/python -m pytest -q tests

test-all: install
	$(BIN)/python -m pytest -q

## lint: ruff (check + format), mypy over genostream/ loader/ gateway/, sqlfluff over dbt_project/, and
## TypeScript's checker over the explorer's JavaScript (jsconfig.json).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/sqlfluff lint dbt_project
	node_modules/.bin/tsc -p jsconfig.json

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## check-constraints: every pin in constraints.txt resolves to wheels on each supported Python (downloads them).
check-constraints: install
	@set -e; target=$$(mktemp -d); trap 'rm -rf "$$target"' EXIT; \
	for version in $(SUPPORTED_PYTHONS); do \
	  $(BIN)/python -m pip install --quiet --dry-run --ignore-installed --only-binary=:all: \
	    --python-version $$version --target "$$target" -r constraints.txt; \
	  echo "Python $$version: constraints.txt resolves (wheels only)"; \
	done

load: install
	$(BIN)/python -m loader load $(or $(DATA),$(EXTERNAL_DIR))

dbt-build: install
	$(DBT) build $(DBT_ARGS)

dbt-docs: install
	$(DBT) docs generate $(DBT_ARGS)

serve: install
	$(BIN)/python -m gateway --host 0.0.0.0 --port $(PORT) --threads $(THREADS)

bench: install
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[bench]"
	$(BIN)/python -m bench $(BENCH_ARGS)

## bench-scale: the cost curve (issue 23) — studies of 20M to 1,000M non-zeros, each step measured in a child,
## exact by a streaming oracle, peers under a memory limit; resumable (SCALE_ARGS; SCALE_OUT, default bench_results/scale).
SCALE_OUT ?= bench_results/scale
bench-scale: install
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[bench]"
	$(BIN)/python -m bench.scale --out $(SCALE_OUT) $(SCALE_ARGS)

## soak: the gateway for a few minutes under mixed, partly hostile load; every answer checked (SOAK_ARGS).
soak: install
	$(BIN)/python -m bench.soak $(SOAK_ARGS)

clean:
	rm -rf .genostream dbt_project/target dbt_project/logs $(DEMO_DIR)
