# Two commands set everything up on a fresh machine: `make build` and `make test`.
# `make build` installs only what building needs; `make test` adds the test tools.
# Neither installs system packages: browser tests skip (saying why) without Chromium.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
BUILD_STAMP := $(VENV)/.installed-build
TEST_STAMP := $(VENV)/.installed-test

.PHONY: build test lint format bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

$(BUILD_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(BUILD_STAMP)

build: $(BUILD_STAMP)
	$(BIN)/python build.py

# The path is explicit, so pytest always collects the suite (never "no tests ran", exit 5);
# -rs: a skipped test says why at the end (no Chromium, no Java for the HTML checker...).
test: $(TEST_STAMP)
	$(BIN)/python -m pytest -n 2 -q -rs tests

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TEST_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(BUILD_STAMP)
	$(BIN)/python bench/compare.py

clean:
	rm -rf $(VENV) output .quire-cache
