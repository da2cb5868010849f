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

.PHONY: run test test-live bench lint typecheck fmt migrate worker seed clean install

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

# Live ingest end to end: a real nginx with Debian's RTMP module (installed when missing), ffmpeg from its wheel.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
test-live: install
	@if ! command -v nginx >/dev/null 2>&1 || [ ! -e /usr/lib/nginx/modules/ngx_rtmp_module.so ]; then \
		$(SUDO) apt-get update && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y nginx libnginx-mod-rtmp; \
	fi
	SF_MEDIA_TESTS=1 $(PY) -m pytest tests/media $(PYTEST_ARGS)

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
