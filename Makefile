# Two entry points for a fresh machine with Python 3.11+: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: run test lint check clean mutation

## Install yidi and serve it with demo data on the embedded SQLite database (http://127.0.0.1:8000).
run: $(VENV)/.installed-run
	$(BIN)/yidi serve $(ARGS)

## Install yidi with its test tools and run the whole test suite.
test: $(VENV)/.installed-dev
	$(BIN)/pytest $(ARGS)

## Static checks (also run by .ci/run).
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests
	$(BIN)/mypy src

## Mutation testing of the settlement rules (slow: see docs/mutation.md); prints the score per file.
mutation: $(VENV)/.installed-dev
	$(BIN)/pip install --quiet -e ".[dev,mutation]"
	rm -rf mutants
	$(BIN)/mutmut run --max-children 2 || true
	$(BIN)/python tools/mutation_score.py mutants

$(VENV)/.venv-created:
	$(PYTHON) -c 'import sys; sys.exit("yidi needs Python 3.11 or newer" if sys.version_info < (3, 11) else 0)'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	touch $@

$(VENV)/.installed-run: $(VENV)/.venv-created pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.venv-created pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed-run

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache mutants
