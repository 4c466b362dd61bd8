# mufno: two commands do everything on a fresh machine.
#   make book   -> data, executed notebooks, website in _build/html   (PRESET=smoke|quick|gpu|paper)
#   make test   -> lint + the test suite (+ the browser test of the smoke-preset site)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PRESET ?= quick
RESULTS ?= results/$(PRESET)
BUILD ?= _build
export MPLBACKEND := Agg
export PYTHONHASHSEED := 0

.PHONY: setup test lint book notebooks site browser-deps clean

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name mufno --display-name "Python (mufno)"
	touch $@

setup: $(BIN)/.installed

lint: setup
	$(BIN)/ruff check mufno_core tests benchmarks scripts

test: setup lint
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(BUILD) notebooks/executed results/smoke results/quick
