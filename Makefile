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

.PHONY: setup test lint book data notebooks site browser-deps clean rerun-results check-results

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	# TMPDIR: ipykernel stages the kernelspec in a temporary folder that it leaves behind
	TMPDIR=$(abspath $(VENV)) $(BIN)/python -m ipykernel install --sys-prefix --name mufno --display-name "Python (mufno)"
	touch $@

setup: $(BIN)/.installed

lint: setup
	$(BIN)/ruff check mufno_core tests benchmarks scripts

# TEST_WORKERS pytest-xdist processes: one per CPU this process may use, and one more, because a
# fifth of the suite's time is spent waiting (on signals, processes it stopped, Chromium), which
# the extra worker fills (benchmarks/README.md). A test file stays on one worker, so its module
# fixtures (the smoke site, a trained sweep) are built once. `make test TEST_WORKERS=0` runs in
# this process; `pytest -m "not slow and not browser"` is the fast inner loop.
TEST_WORKERS ?= $(shell $(BIN)/python -c "import os; print(len(os.sched_getaffinity(0)) + 1 if hasattr(os, 'sched_getaffinity') else os.cpu_count() + 1)")
test: setup lint browser-deps
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# results/quick/ and results/smoke/ are committed (the records of the quick book and of the smoke
# book the browser test builds): clean keeps them.
clean:
	rm -rf $(BUILD) notebooks/executed book/executed results/rerun-*

# ---- the book (book/reproduce.md) -------------------------------------------------------------
# _toc.yml is the one list of notebooks; EXECUTED holds the executed copies (build products).
EXECUTED ?= book/executed/$(PRESET)
DATA ?= data

# an unknown PRESET stops make in one line, before anything runs
KNOWN_PRESET = $(if $(filter $(PRESET),smoke quick gpu paper),,$(error unknown PRESET=$(PRESET): one of smoke, quick, gpu, paper))

data: setup
	$(KNOWN_PRESET)$(BIN)/python scripts/ensure_data.py --preset $(PRESET) --data-dir $(DATA)

notebooks: setup
	$(KNOWN_PRESET)$(BIN)/python scripts/run_notebooks.py --preset $(PRESET) --results $(RESULTS) --out $(EXECUTED)

site: setup
	$(BIN)/python scripts/build_site.py --executed $(EXECUTED) --build $(BUILD)

book: setup
	$(KNOWN_PRESET)$(MAKE) --no-print-directory data
	$(MAKE) --no-print-directory notebooks
	$(MAKE) --no-print-directory site

# ---- the course (scripts/student_notebooks.py, mufno_core/book/launch.py) ---------------------
# student-notebooks: the book's notebooks without solutions and outputs, python3 kernel -> BUILD/student.
# launch-cells: the Colab install cell of _config.yml's repository.url into notebooks/*.ipynb (or out).
.PHONY: student-notebooks launch-cells
student-notebooks: setup
	$(BIN)/python scripts/student_notebooks.py --out $(BUILD)/student

launch-cells: setup
	$(BIN)/python -m mufno_core.book.launch --write-sources

# ---- the committed store, checked on this machine (book/reproduce.md) --------------------------
# rerun-results: every notebook from scratch into another store, then both stores' verdicts.
# check-results: every record against the store's MANIFEST.sha256 (exact), then CHECK_SAMPLE trials
# per experiment rerun here (a fresh random sample, its seed printed; CHECK_SEED=N repeats one),
# compared with their records and the verdicts.
RERUN ?= results/rerun-$(PRESET)
CHECK_SAMPLE ?= 2
CHECK_SEED ?=

rerun-results: setup
	$(MAKE) --no-print-directory data
	$(BIN)/python scripts/run_notebooks.py --preset $(PRESET) --results $(RERUN) --out book/executed/rerun-$(PRESET)
	$(BIN)/python -m mufno_core.analysis.reproduce compare $(RESULTS) $(RERUN) --preset $(PRESET)

check-results: setup
	$(MAKE) --no-print-directory data
	$(BIN)/python -m mufno_core.analysis.reproduce check $(RESULTS) --per-experiment $(CHECK_SAMPLE) --data-dir $(DATA) --preset $(PRESET) $(if $(CHECK_SEED),--seed $(CHECK_SEED))

browser-deps:
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

# Speed of our FNO vs neuraloperator's (benchmark-only deps, see benchmarks/README.md).
BENCH_ARGS ?= --device cpu --repeats 20
.PHONY: bench
$(BIN)/.bench-installed: $(BIN)/.installed benchmarks/requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r benchmarks/requirements.txt
	touch $@

bench: $(BIN)/.bench-installed
	$(BIN)/python benchmarks/bench_fno_speed.py $(BENCH_ARGS) --json results/bench_fno_speed.json
