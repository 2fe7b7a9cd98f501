VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: dev check test golden site clean

dev:
	python3 -m venv $(VENV) && $(VENV)/bin/pip install -q -e '.[test,dev]'

check:
	$(VENV)/bin/ruff check amwgen tests benchmarks
	$(VENV)/bin/ruff format --check amwgen tests benchmarks
	$(VENV)/bin/mypy
	$(PY) -m pytest

test:
	$(PY) -m pytest

golden:
	$(PY) tests/update_golden.py
	git status --short tests/golden

site:
	$(VENV)/bin/amwgen build

clean:
	rm -rf public .amwgen-cache
