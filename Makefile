# Kurator — the two set-up commands are `make run` and `make test`; `make bench` measures.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := kurator.settings

.PHONY: run test lint typecheck migrations-check pytest bench vendor messages install install-dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(PY)
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(PIP) install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The product as users see it (DEBUG off: real error pages, compressed static files), on plain http locally.
run: export DEBUG = 0
run: export HTTPS = 0
run: export ALLOWED_HOSTS = $(HOST),127.0.0.1,localhost
run: install
	mkdir -p var
	$(PY) manage.py compiletranslations
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py demo_data --if-empty
	@echo
	@echo "Kurator: http://$(HOST):$(PORT)/   (demo logins above; Ctrl+C stops)"
	$(PY) manage.py runserver --noreload $(HOST):$(PORT)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy kurator bench

migrations-check: install-dev
	$(PY) manage.py makemigrations --check --dry-run

# The whole suite runs on SQLite and, when PostgreSQL is reachable (or REQUIRE_POSTGRES=1), on PostgreSQL too.
pytest: install-dev
	$(PY) manage.py compiletranslations
	$(PY) -m tests.runner

test: lint typecheck migrations-check pytest

bench: install-dev
	$(PY) -m bench.run

# Front-end assets come from the npm registry once and are committed, so that `make run` needs no network.
vendor:
	$(PY) -m kurator.ui.vendor

messages: install-dev
	$(PY) manage.py makemessages -l ru -l en --ignore=.venv --ignore=var --ignore=static
	$(PY) manage.py makemessages -d djangojs -l ru -l en --ignore=.venv --ignore=var --ignore=static/vendor

clean:
	rm -rf $(VENV) var/static .mypy_cache .ruff_cache
