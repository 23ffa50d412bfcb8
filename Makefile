# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install system-deps lint format check bench worker clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Debian packages the tests need (Chromium for the browser tests, poppler for PDF pages).
system-deps:
	@sh scripts/system-deps.sh

demo: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py seed_demo_runs
	@echo "Starting a Celery worker and the web server (Ctrl-C stops both):"
	@echo "  data entry  http://$(HOST):$(PORT)/admin/"
	@echo "  analyses    http://$(HOST):$(PORT)/analytics/"
	@echo "  bulk import http://$(HOST):$(PORT)/imports/   API docs http://$(HOST):$(PORT)/api/docs/"
	@trap 'kill 0' INT TERM EXIT; \
	  $(VENV)/bin/celery -A config worker --pool solo --loglevel INFO & \
	  $(PY) manage.py runserver --noreload $(HOST):$(PORT)

worker: install
	$(VENV)/bin/celery -A config worker --loglevel INFO

test: install system-deps
	$(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

bench: install
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) var
