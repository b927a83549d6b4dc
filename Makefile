# cpgraph: the two set-up commands are `make serve` and `make test`; everything else is here.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: serve test check lint format build clean

# The virtual environment, with cpgraph installed in editable mode and its test tools.
$(BIN)/cpgraph: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --editable ".[test]"
	touch $@

# Build the store from ontology/, shapes/ and data/ (when there is none) and serve it.
serve: $(BIN)/cpgraph
	$(BIN)/cpgraph serve --host $(HOST) --port $(PORT)

# Rebuild the store from the repository's files.
build: $(BIN)/cpgraph
	$(BIN)/cpgraph build

# Lint, format check and the whole test suite: what CI runs.
test: $(BIN)/cpgraph lint
	$(BIN)/python -m pytest

lint: $(BIN)/cpgraph
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy --strict src

format: $(BIN)/cpgraph
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
