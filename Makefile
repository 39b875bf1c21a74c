# The two commands a newcomer needs: `make serve` and `make test`. Everything else is for CI and
# maintainers. Each target creates the virtualenv it needs; nothing is assumed installed.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Lambda and Vercel run Python 3.12: develop on it when pyenv has it, else on python3.
PYTHON ?= $(shell p=$$(pyenv prefix 3.12 2>/dev/null)/bin/python3.12; [ -x "$$p" ] && echo $$p || command -v python3.12 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

help:
	@echo "make serve   run the proxy on http://$(HOST):$(PORT) (demo mode when no HF token is configured)"
	@echo "make test    install everything and run the whole test suite"
	@echo "make bench   measure overhead, connection reuse, cold start, bundle, memory (fails on a missed target)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Benchmark tools (Flask for the seed-style baseline, pyinstrument) go into .venv, never a bundle.
$(VENV)/.bench: bench/requirements.txt requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@ $(VENV)/.dev $(VENV)/.runtime

bench: $(VENV)/.bench
	$(BIN)/python -m bench

.PHONY: bench

serve: $(VENV)/.runtime
	$(BIN)/python -m functions.local.server --host $(HOST) --port $(PORT)

test: $(VENV)/.dev
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check shared functions tests

.PHONY: help serve test lint
