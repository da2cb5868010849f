# Social Flow — `make run` serves the app, `make test` runs the whole suite. Nothing else to install.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
# Only the source folders that exist yet (bench/ arrives with the benchmarks).
SRC := $(wildcard server channels models tests bench browser_tests scripts)
PY := $(VENV)/bin/python
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))

.PHONY: run test suites schemathesis soak test-live bench lint typecheck fmt migrate clean install test-browser sdk chromium web-vendor

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# The virtualenv is rebuilt from uv.lock whenever the lockfile changes.
$(VENV)/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --python $(PYTHON)
	@touch $@

# Bytecode for every installed package, written once per sync: with PYTHONDONTWRITEBYTECODE set (as on the
# shared machine) Python never writes it on import, so every process (each test worker, each server a test
# starts) compiled every module it imported from source again: about 3 CPU-seconds per process for the app.
$(VENV)/.compiled: $(VENV)/.synced
	$(PY) -m compileall -q $(VENV)/lib >/dev/null
	@touch $@

install: $(VENV)/.synced $(VENV)/.compiled

run: install
	exec $(PY) -m server serve

migrate: install
	$(PY) -m server migrate

# Four pytest-xdist workers by default on the 2-core machine (each with its own PostgreSQL and Valkey, see
# tests/conftest.py): many tests wait (for a server to start, a socket, a job), and a third and fourth worker
# compute meanwhile. worksteal hands an idle worker half of a busy one's remaining tests, so no worker sits idle
# behind one long file at the end. TEST_WORKERS=0 runs everything in one process.
# PYTHONDONTWRITEBYTECODE is cleared for pytest so it keeps its assertion-rewritten modules in __pycache__:
# otherwise every worker rewrote and compiled each pytest plugin's modules (~370) again, ~2 CPU-s a process.
TEST_WORKERS ?= 4
test: install
	$(PY) -m compileall -q $(SRC) >/dev/null  # our own sources' bytecode (see .compiled above); seconds when current
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

# The security suites (each under 3 minutes): BOLA matrix, JWT negatives, websocket fuzz, chaos.
suites: install
	$(PY) -m pytest -m suite tests/integration/security $(PYTEST_ARGS)

# Schemathesis over the whole OpenAPI document against a live server (see docs/security.md).
schemathesis: install
	$(PY) -m pytest -m schemathesis tests/integration/security $(PYTEST_ARGS)

# Not in make test: 10 minutes, 2,000 sockets and steady REST traffic (see docs/benchmarks.md).
soak: install
	$(PY) -m bench.soak $(SOAK_ARGS)

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

# Debian's Chromium for the browser tests (playwright cannot download its own browsers here).
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# The JS SDK: types from the served OpenAPI document, built, tested against a server it starts, and the
# demo app's committed copy (web/sdk) checked to be that build.
sdk: install
	$(PY) -m scripts.openapi clients/js/openapi.json
	cd clients/js && npm ci --no-audit --no-fund && npm run gen && npm run build
	for f in clients/js/dist/*.js; do cmp "$$f" "web/sdk/$$(basename $$f)" || \
	  { echo "web/sdk is stale: cp clients/js/dist/*.js web/sdk/ and commit" >&2; exit 1; }; done

# The demo app's third-party browser code (hls.js), pinned exactly in clients/web-vendor/package-lock.json;
# web/vendor holds the committed copy (so `make run` needs no npm), checked to be that pinned file.
WEB_VENDOR := hls.js/dist/hls.light.min.mjs
web-vendor:
	cd clients/web-vendor && npm ci --no-audit --no-fund
	for f in $(WEB_VENDOR); do cmp "clients/web-vendor/node_modules/$$f" "web/vendor/$$(basename $$f)" || \
	  { echo "web/vendor is stale: cp clients/web-vendor/node_modules/$$f web/vendor/ and commit" >&2; exit 1; }; done

test-browser: install chromium sdk web-vendor
	cd clients/js && npm test
	$(PY) -m pytest browser_tests -q -p no:cacheprovider $(PYTEST_ARGS)

bench: install
	$(PY) -m bench

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache
