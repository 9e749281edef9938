# The few commands a developer runs. `make run` and `make test` are the README's two commands.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test e2e bench lint format system-deps clean

run: $(STAMP)  ## Serve BGW on :8000 with the embedded SQLite database
	$(BIN)/bgw serve

test: system-deps $(STAMP) lint  ## Lint, then the whole suite on SQLite and on PostgreSQL + Redis
	$(BIN)/pytest

e2e: system-deps $(STAMP)  ## Only the end-to-end runs: Prometheus + Alertmanager, and the collector path
	$(BIN)/pytest tests/e2e tests/collector -s

bench: $(STAMP)  ## The telemetry overhead benchmark (needs wrk, taskset and valgrind; ≈ 18 min, see docs/performance.md)
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python -m bench.run --out var/bench/results.json

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

system-deps:  ## Install (as root on Debian) or name the servers the tests start
	scripts/install-system-deps.sh

# The machine's pip (23.2) cannot resolve the OpenTelemetry packages: upgrade it in the venv first.
$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11) and "BGW needs Python 3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
