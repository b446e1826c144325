# Two commands on a fresh machine:
#   make run   - install, migrate, load the programs and demo accounts, start server + worker + beat
#   make test  - install and run the whole suite (SQLite; plus PostgreSQL + a real worker on Redis when present)
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000

.PHONY: setup run test lint format clean

setup: $(VENV)/.installed
	@bash .ci/ensure-system-packages.sh

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

run: setup
	$(PY) manage.py demo --port $(PORT)

test: setup
	bash .ci/test.sh

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf var build *.egg-info
