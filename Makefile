# Merit LMS tasks. `make run` and `make test` are the README's two commands.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE ?= lms.settings.local

.PHONY: run test install install-dev lint typecheck migrations-check pytest bench bench-quick e2e clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(PY)
	$(PIP) install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(PY)
	$(PIP) install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## Install, migrate, load the demo organisation, start a Celery worker and the web server.
run: install
	mkdir -p var
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py seed_demo
	@bash scripts/run.sh "$(PY)" "$(HOST)" "$(PORT)"

## Install the dev requirements and run everything CI runs: lint, types, migrations, tests.
test: install-dev lint typecheck migrations-check pytest

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install-dev
	$(VENV)/bin/mypy .

migrations-check: install-dev
	DJANGO_SETTINGS_MODULE=lms.settings.test $(PY) manage.py makemigrations --check --dry-run

pytest: install-dev
	DJANGO_SETTINGS_MODULE=lms.settings.test $(VENV)/bin/pytest $(PYTEST_ARGS)

e2e: install-dev
	DJANGO_SETTINGS_MODULE=lms.settings.test $(VENV)/bin/pytest tests/e2e $(PYTEST_ARGS)

## Benchmarks at scale (PostgreSQL and Redis; see README "Performance").
bench: install-dev
	$(PY) -m bench.run --users 100000 --ledger 1000000

bench-quick: install-dev
	$(PY) -m bench.run --quick

clean:
	rm -rf var test-artifacts .mypy_cache .ruff_cache
