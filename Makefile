# cpgraph: the two set-up commands are `make serve` and `make test`; everything else is here.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: serve test test-deps check lint format build clean bench

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
test: $(BIN)/cpgraph test-deps lint
	$(BIN)/python -m pytest

# System packages the tests use: Debian's Chromium for the headless browser tests. Installed
# only when missing and when running as root; otherwise those tests skip and say why. Each
# kind of test dependency adds its own double-colon `test-deps::` rule, run in order.
test-deps::
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	fi

# OpenLink Virtuoso (Debian's virtuoso-opensource) for the push tests, which copy the dataset
# into it; the Oxigraph server they also use comes with the test extra (pip, in .venv).
test-deps::
	@if [ ! -x /usr/bin/virtuoso-t ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's virtuoso-opensource for the push tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			virtuoso-opensource >/dev/null; \
	fi

# A Java runtime (Debian's default-jre-headless) for HermiT, the OWL reasoner that owlready2
# (test extra) bundles: the OWL tests run it over the ontology and the data.
test-deps::
	@if ! command -v java >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's default-jre-headless for the OWL reasoner tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			default-jre-headless >/dev/null; \
	fi

# Apache Jena (Debian's libapache-jena-java, with a Java runtime if there is none) for the
# real-client tests: Jena's HTTP client POSTs queries and forms to a cpgraph server.
test-deps::
	@if [ ! -e /usr/share/java/jena-arq.jar ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's libapache-jena-java for the real-client tests"; \
		packages=libapache-jena-java; command -v java >/dev/null || packages="$$packages default-jre-headless"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$packages >/dev/null; \
	fi

# npm's Comunica (@comunica/query-sparql 4.x, tests/clients/package.json) for the real-client
# tests, into tests/clients/node_modules; where npm or the package cannot be had, they skip.
test-deps::
	@if [ ! -x tests/clients/node_modules/.bin/comunica-sparql ] && command -v npm >/dev/null; then \
		echo "installing Comunica for the real-client tests"; \
		npm install --prefix tests/clients --no-package-lock --no-audit --no-fund >/dev/null 2>&1 \
			|| echo "Comunica could not be installed: its tests skip"; \
	fi

lint: $(BIN)/cpgraph
	$(BIN)/ruff check src tests
	$(BIN)/ruff format --check src tests
	$(BIN)/mypy --strict src

format: $(BIN)/cpgraph
	$(BIN)/ruff check --fix src tests
	$(BIN)/ruff format src tests

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache

# wrk, the load generator of the endpoint benchmarks (the CI smoke run skips that part without it).
test-deps::
	@if ! command -v wrk >/dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing Debian's wrk for the benchmarks"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	fi

# The benchmarks at scale, with their peers (oxigraph, rdflib-endpoint): a long run (about an
# hour at 100k and 1M; SIZES="100k 1M 10M" needs some 10 GiB of disk under var/bench).
SIZES ?= 100k 1M
bench: $(BIN)/cpgraph test-deps
	$(BIN)/python -m pip install --quiet --editable ".[test,bench]"
	$(BIN)/python benchmarks/run.py --sizes $(SIZES)
