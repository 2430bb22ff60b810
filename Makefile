# The two set-up commands of the README: `make run` and `make test`. Everything they need is
# installed here, into .venv/ at the repository root, from the package registries.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
FLOWER_PORT ?= 5555

.PHONY: run test lint typecheck bench install clean

$(STAMP): backend/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e 'backend[dev,bench]'
	@touch $(STAMP)

install: $(STAMP)

# Everything on embedded defaults (SQLite, the filesystem broker; no server to install): the
# API, the chunk worker, the control worker, beat and Flower, supervised by folio.devserver,
# which prints the addresses once the API answers. Ctrl-C stops every process.
# docs/running.md describes each process, and production on PostgreSQL + Redis.
run: $(STAMP)
	$(BIN)/flask --app folio.wsgi db upgrade
	@# --preload: the workers fork from one app, so without FOLIO_SECRET_KEY they still share
	@# the random per-process key that signs tokens.
	@exec $(BIN)/python -m folio.devserver --host $(HOST) --port $(PORT) \
		--flower-port $(FLOWER_PORT) -- \
		$(BIN)/gunicorn --bind $(HOST):$(PORT) --workers 2 --preload --access-logfile - folio.wsgi:app

lint: $(STAMP)
	$(BIN)/ruff check backend tests bench
	$(BIN)/ruff format --check backend tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_pipeline.py --markdown

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
