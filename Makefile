# Social Flow — `make run` serves the app, `make test` runs the whole suite. Nothing else to install.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
# Only the source folders that exist yet (bench/ arrives with the benchmarks).
SRC := $(wildcard server channels models tests bench)
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: run test suites schemathesis soak bench lint typecheck fmt migrate worker seed clean install

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# The virtualenv is rebuilt from uv.lock whenever the lockfile changes.
$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

install: $(VENV)/.synced

run: install
	exec $(PY) -m server serve

migrate: install
	$(PY) -m server migrate

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# The security suites (each under 3 minutes): BOLA matrix, JWT negatives, websocket fuzz, chaos.
suites: install
	$(PY) -m pytest -m suite tests/integration/security $(PYTEST_ARGS)

# Schemathesis over the whole OpenAPI document against a live server (see docs/security.md).
schemathesis: install
	$(PY) -m pytest -m schemathesis tests/integration/security $(PYTEST_ARGS)

# Not in make test: 10 minutes, 2,000 sockets and steady REST traffic (see docs/benchmarks.md).
soak: install
	$(PY) -m bench.soak $(SOAK_ARGS)

lint: install
	$(VENV)/bin/ruff check $(SRC)
	$(VENV)/bin/ruff format --check $(SRC)

typecheck: install
	$(VENV)/bin/mypy

fmt: install
	$(VENV)/bin/ruff format $(SRC)
	$(VENV)/bin/ruff check --fix $(SRC)

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache
