# The two commands: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
CATALOGS := src/borderpass/web/translations
# The scanner's camera QR decoder (npm package jsqr, pinned in package-lock.json), copied
# to a git-ignored folder the site serves; without npm the camera is said to be unavailable.
DECODER := src/borderpass/web/static/vendor/jsQR.js
# The e-Channel app draws its gate QR on the phone (npm package qrcode-generator, pinned
# the same way), beside the decoder.
ENCODER := src/borderpass/web/static/vendor/qrcode.js
# The same `npm ci` installs axe-core (a devDependency, not served), which the
# accessibility test (tests/web/test_accessibility.py) injects into every page.

.PHONY: run test lint bench setup clean translations vendor

# setup.py builds the C modules (kit/signing/_native.c, worldcodes/_dccplain.c) into the
# source tree.
$(STAMP): pyproject.toml setup.py src/borderpass/kit/signing/_native.c \
		src/borderpass/worldcodes/_dccplain.c
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) vendor

vendor:
	@if [ -f $(DECODER) ] && [ $(DECODER) -nt package-lock.json ] && [ -f $(ENCODER) ]; then :; \
	elif command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --silent && mkdir -p $(dir $(DECODER)) && \
		cp node_modules/jsqr/dist/jsQR.js $(DECODER) && \
		cp node_modules/qrcode-generator/qrcode.js $(ENCODER); \
	else echo "npm not found: the scanner's camera decoder is not installed (photo upload" \
		"and pasted text still work). Install npm and run 'make vendor' to add it."; fi

run: $(STAMP) vendor
	$(BIN)/pybabel compile -d $(CATALOGS)
	$(BIN)/borderpass db upgrade
	$(BIN)/borderpass demo
	$(BIN)/borderpass serve --host $(HOST) --port $(PORT)

test: $(STAMP) vendor
	$(BIN)/pybabel compile -d $(CATALOGS)
	@if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || [ -n "$$BORDERPASS_CHROMIUM" ]; \
	then echo "Chromium found: the browser tests (tests/web/test_browser.py) will run."; \
	else echo "No Chromium found: the browser tests will be SKIPPED (apt-get install chromium)."; fi
	$(BIN)/python -m pytest -m "not alone" $(PYTEST_ARGS)
	@# Then the tests that measure response times, alone (5: none were selected).
	$(BIN)/python -m pytest -m alone -n 0 $(PYTEST_ARGS) || test $$? -eq 5

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var node_modules build src/borderpass/kit/signing/*.so \
		src/borderpass/worldcodes/*.so $(dir $(DECODER)) .pytest_cache .mypy_cache .ruff_cache

# Message catalogs: extract the marked strings, merge them into each language's .po and
# compile the .mo files (the site also reads a .po directly when no .mo is up to date).
translations: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k _n:1,2 --no-location --sort-output --project borderpass \
		--copyright-holder "borderpass authors" -o $(CATALOGS)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --no-fuzzy-matching \
		--ignore-obsolete
	$(BIN)/pybabel compile -d $(CATALOGS) --statistics
