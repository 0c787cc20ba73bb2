# explainbench: `make demo` and `make test` are the two commands a newcomer needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RAY_STAMP := $(VENV)/.installed-ray
export HF_DATASETS_OFFLINE ?= 1
export HF_HUB_OFFLINE ?= 1
export NLTK_DATA ?= $(CURDIR)/$(VENV)/nltk_data

.PHONY: setup demo test lint bench clean reliability

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	$(PY) -m pip install --quiet -e tests/plugin_example
	$(PY) -m explainbench.metrics.wordnet --prepare $(NLTK_DATA)
	touch $(STAMP)

# The optional Ray extra, for the tests of `explainbench grid --executor ray` (the demo does not need it).
$(RAY_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -c constraints.txt -e '.[ray]'
	touch $(RAY_STAMP)

demo: setup
	$(PY) -m explainbench.cli.main demo

test: setup $(RAY_STAMP)
	$(PY) -m pytest -q

# Fault injection (kill -9, disk full, concurrent runs): a few minutes; also part of `make test`.
reliability: setup
	$(PY) -m pytest -q tests/reliability

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .explainbench build *.egg-info
