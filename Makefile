# The two set-up commands of the README: `make run` and `make test`. Everything they need is
# installed here, into .venv/ at the repository root, from the package registries.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
FLOWER_PORT ?= 5555

.PHONY: run test lint typecheck bench install clean frontend frontend-check api-types chromium \
	tesseract screenshots

$(STAMP): backend/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e 'backend[dev,bench]'
	@touch $(STAMP)

install: $(STAMP)

# The frontend (docs/frontend.md): a Next.js static export in frontend/out, served by the API
# at /. Installed with npm from package-lock.json; Node is needed to build it, not to run it.
NPM ?= npm
FRONTEND := frontend
NODE_MODULES := $(FRONTEND)/node_modules/.package-lock.json
FRONTEND_EXPORT := $(FRONTEND)/out/index.html
FRONTEND_SOURCES := $(shell find $(FRONTEND)/app $(FRONTEND)/components $(FRONTEND)/lib \
	$(FRONTEND)/public -type f 2>/dev/null) \
	$(addprefix $(FRONTEND)/,package.json next.config.ts tsconfig.json)
OPENAPI_JSON := $(VENV)/openapi.json

# `npm install` again whenever package-lock.json is newer than the installed tree. Not
# `npm ci`: the lock was made against a registry mirror that has no macOS or Windows builds
# of Next's compiler, and `npm ci` refuses a lock without them; `npm install` keeps every
# locked version (the lock is left unchanged) and fetches this platform's binaries.
$(NODE_MODULES): $(FRONTEND)/package-lock.json
	cd $(FRONTEND) && $(NPM) install --no-audit --no-fund
	@touch $@

# The export is rebuilt when a source, the configuration or the lock file changed.
$(FRONTEND_EXPORT): $(NODE_MODULES) $(FRONTEND_SOURCES)
	cd $(FRONTEND) && NEXT_TELEMETRY_DISABLED=1 $(NPM) run build
	@touch $@

frontend: $(FRONTEND_EXPORT)

# eslint, tsc --strict and the Vitest unit tests.
frontend-check: $(NODE_MODULES)
	cd $(FRONTEND) && $(NPM) run lint && $(NPM) run typecheck && $(NPM) test -- --run

# The TypeScript API types, generated from the backend's OpenAPI document: run after changing
# the API and commit lib/api/schema.d.ts (tests/test_frontend_api_types.py fails while stale).
api-types: $(STAMP) $(NODE_MODULES)
	$(BIN)/flask --app folio.wsgi openapi write --format=json $(OPENAPI_JSON)
	cd $(FRONTEND) && $(NPM) run gen:api -- ../$(OPENAPI_JSON)

# Everything on embedded defaults (SQLite, the filesystem broker; no server to install): the
# API, the chunk worker, the control worker, beat and Flower, supervised by folio.ops.devserver,
# which writes each process's output to var/log/ (VERBOSE=1: to the terminal too), restarts
# a process that dies, and prints the addresses once everything answers. Ctrl-C stops all.
# docs/running.md describes each process, and production on PostgreSQL + Redis.
run: $(STAMP) $(FRONTEND_EXPORT) tesseract
	$(BIN)/flask --app folio.wsgi db upgrade
	@# --preload: the workers fork from one app, so without FOLIO_SECRET_KEY they still share
	@# the random per-process key that signs tokens. No --access-logfile: Folio logs each
	@# request once itself (folio.request, with its request id).
	@exec $(BIN)/python -m folio.ops.devserver --host $(HOST) --port $(PORT) \
		--flower-port $(FLOWER_PORT) $(if $(LOG_DIR),--log-dir $(LOG_DIR)) \
		$(if $(filter-out 0,$(VERBOSE)),--verbose) -- \
		$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --preload folio.wsgi:app

lint: $(STAMP)
	$(BIN)/ruff check backend tests bench
	$(BIN)/ruff format --check backend tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

# The end-to-end tests (tests/e2e/) drive Debian's chromium through Playwright, which never
# downloads a browser of its own: install the package when it is missing (sudo unless root).
CHROMIUM := /usr/bin/chromium
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$sudo apt-get update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

# OCR of scanned pages (docs/ocr.md) runs Debian's Tesseract with its French model (and the
# English one, for --lang eng): install the packages when `tesseract` is missing (sudo unless
# root, as for chromium) or when it has no French model. The Dockerfile's runtime stage
# installs them too.
TESSERACT_PACKAGES := tesseract-ocr tesseract-ocr-fra tesseract-ocr-eng
tesseract:
	@if ! tesseract --list-langs 2>/dev/null | grep -qx fra; then \
		sudo=$$([ "$$(id -u)" -eq 0 ] || echo sudo); \
		$$sudo apt-get update && \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y $(TESSERACT_PACKAGES); \
	fi

test: lint typecheck frontend-check frontend chromium tesseract
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_pipeline.py --markdown

# The README's screenshots, retaken by the end-to-end tests (docs/development.md).
screenshots: $(STAMP) $(FRONTEND_EXPORT) chromium
	FOLIO_E2E_UPDATE_DOC_IMAGES=1 $(BIN)/pytest tests/e2e

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
	rm -rf $(FRONTEND)/node_modules $(FRONTEND)/.next $(FRONTEND)/out
