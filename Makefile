# norcekit developer commands. Every target creates the virtualenv first when it is missing,
# so each one works as the first command on a fresh clone.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
# Python 3.13 (the Lambda runtime) when pyenv has it, else the newest python3 >= 3.11 on PATH.
PYTHON_BOOTSTRAP := $(shell for p in "$$(pyenv root 2>/dev/null)/versions/3.13"*/bin/python3 python3.13 python3.12 python3.11 python3; do \
	command -v "$$p" >/dev/null 2>&1 && "$$p" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && { echo "$$p"; break; }; done)
# The build tools (aws-sam-cli, pip-tools) need the Lambda's Python itself: the layer's bytecode is
# compiled by it and the lock is resolved for it.
PYTHON313 := $(shell for p in "$$(pyenv root 2>/dev/null)/versions/3.13"*/bin/python3 python3.13; do \
	command -v "$$p" >/dev/null 2>&1 && "$$p" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null && { echo "$$p"; break; }; done)
# Build and dev tools live in their own virtualenv so they cannot change the runtime versions under test.
TOOLS := .venv-tools
LOCK := layers/norcekit/requirements.txt

.PHONY: setup tools lock test test-unit test-integration lint fmt bench local demo build validate clean

# The test environment installs the layer's lockfile first (hash-checked), then the dev extras
# constrained to the locked versions: a dev tool that wants another runtime version fails the setup
# instead of silently changing what the tests run (tests/unit/deps/test_lock.py checks the result).
$(VENV)/.installed: pyproject.toml $(LOCK)
	@test -n "$(PYTHON_BOOTSTRAP)" || { echo "no Python >= 3.11 found" >&2; exit 1; }
	@echo "creating $(VENV) with $(PYTHON_BOOTSTRAP)"
	@test -x $(PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes -r $(LOCK)
	sed -nE 's/^([A-Za-z0-9._-]+==[^ ;\\]+).*/\1/p' $(LOCK) > $(VENV)/runtime-constraints.txt
	$(PY) -m pip install -q -c $(VENV)/runtime-constraints.txt -e '.[dev]'
	@touch $@

$(TOOLS)/.installed: requirements-tools.txt
	@test -n "$(PYTHON313)" || { echo "the build tools need Python 3.13 (the Lambda runtime): install it (pyenv install 3.13)" >&2; exit 1; }
	@test -x $(TOOLS)/bin/python || $(PYTHON313) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install -q --upgrade pip
	$(TOOLS)/bin/python -m pip install -q -r requirements-tools.txt
	@touch $@

tools: $(TOOLS)/.installed

# Re-resolve the layer's ranges (requirements.in) into the hashed lockfile, for the Lambda's Python
# 3.13 on Linux. Every file of each pinned release is hashed, so the same lock installs the arm64
# layer and the host's test environment.
lock: tools
	$(TOOLS)/bin/pip-compile --quiet --upgrade --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --index-url https://pypi.org/simple \
		--output-file $(LOCK) layers/norcekit/requirements.in

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

validate: tools
	$(TOOLS)/bin/sam validate --lint

# The layer is built by layers/norcekit/Makefile (BuildMethod: makefile) with the tools' python3.13.
build: tools
	PATH="$(abspath $(TOOLS))/bin:$$PATH" $(TOOLS)/bin/sam build

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .local .pytest_cache .mypy_cache .ruff_cache
