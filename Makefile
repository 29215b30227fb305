# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
CATALOGS := src/borderpass/web/translations

.PHONY: run test lint bench setup clean translations

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/pybabel compile -d $(CATALOGS)
	$(BIN)/borderpass db upgrade
	$(BIN)/borderpass demo
	$(BIN)/borderpass serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/pybabel compile -d $(CATALOGS)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache

# Message catalogs: extract the marked strings, merge them into each language's .po and
# compile the .mo files (the site also reads a .po directly when no .mo is up to date).
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ --no-location --sort-output --project borderpass \
		--copyright-holder "borderpass authors" -o $(CATALOGS)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --no-fuzzy-matching \
		--ignore-obsolete
	$(BIN)/pybabel compile -d $(CATALOGS) --statistics
