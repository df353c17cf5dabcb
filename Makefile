# faqtual: make test installs what the tests need into the current Python and runs them.
PYTHON ?= python3
PIP ?= $(PYTHON) -m pip

.PHONY: install install-test test test-fast lint docs bench

install:
	$(PIP) install -e .

# torch==2.13.0 first: a bare 'torch' (pulled in by the reference model) would fetch a multi-GB CUDA build.
install-test:
	$(PIP) install torch==2.13.0
	$(PIP) install -e '.[test]'

test: install-test
	HF_HUB_OFFLINE=1 $(PYTHON) -m pytest

test-fast:
	HF_HUB_OFFLINE=1 $(PYTHON) -m pytest -m "not slow and not reference"

lint:
	$(PYTHON) -m ruff format --check faqtual tests benchmarks
	$(PYTHON) -m ruff check faqtual tests benchmarks
	$(PYTHON) -m mypy

bench:
	HF_HUB_OFFLINE=1 $(PYTHON) benchmarks/speed.py
