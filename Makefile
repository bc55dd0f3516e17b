# norcekit developer commands. Every target creates the virtualenv first when it is missing,
# so each one works as the first command on a fresh clone.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Python 3.13 (the Lambda runtime) when pyenv has it, else the newest python3 >= 3.11 on PATH.
PYTHON_BOOTSTRAP := $(shell for p in "$$(pyenv root 2>/dev/null)/versions/3.13"*/bin/python3 python3.13 python3.12 python3.11 python3; do \
	command -v "$$p" >/dev/null 2>&1 && "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo "$$p"; break; }; done)

.PHONY: setup test test-unit test-integration lint fmt bench local demo build validate clean

$(VENV)/.installed: pyproject.toml layers/norcekit/requirements.txt
	@test -n "$(PYTHON_BOOTSTRAP)" || { echo "no Python >= 3.11 found" >&2; exit 1; }
	@echo "creating $(VENV) with $(PYTHON_BOOTSTRAP)"
	@test -x $(PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r layers/norcekit/requirements.txt
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

setup: $(VENV)/.installed

test: setup
	$(PY) -m pytest -n 2 -q

test-unit: setup
	$(PY) -m pytest -q tests/unit

test-integration: setup
	$(PY) -m pytest -q tests/integration tests/e2e

# ruff, mypy strict, and the import-linter layer contracts in pyproject.toml ([tool.importlinter]).
lint: setup
	$(VENV)/bin/ruff check layers/norcekit local functions tests
	$(VENV)/bin/ruff format --check layers/norcekit local functions tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

fmt: setup
	$(VENV)/bin/ruff format layers/norcekit local functions tests
	$(VENV)/bin/ruff check --fix layers/norcekit local functions tests

bench: setup
	$(PY) -m tests.bench

# make local NORCE=https://{slug}.api-se.playground.norce.tech [NORCE_ENV_FILE=norce.env]: a real tenant
# instead of the emulator; credentials from the env file or the environment, never the command line.
local: setup
	$(PY) -m norcekit_local $(if $(NORCE),--norce-url '$(NORCE)') $(if $(NORCE_ENV_FILE),--norce-env-file '$(NORCE_ENV_FILE)')

demo: setup
	@if [ -n "$(NORCE)" ]; then echo "make demo runs against the bundled Norce emulator only (it injects faults and resets it); for your tenant use: make local NORCE=$(NORCE)" >&2; exit 2; fi
	$(PY) -m norcekit_local.demo

validate: setup
	$(VENV)/bin/sam validate --lint

build: setup
	PATH="$(abspath $(VENV))/bin:$$PATH" $(VENV)/bin/sam build

clean:
	rm -rf $(VENV) .aws-sam .local .pytest_cache .mypy_cache .ruff_cache
