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

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

serve: $(VENV)/.runtime
	$(BIN)/python -m functions.local.server --host $(HOST) --port $(PORT)

test: $(VENV)/.dev
	$(BIN)/python -m pytest

# Not a test: 500 requests, 50 at a time, through the `make serve` server to a loopback upstream that
# takes 1 s (bench/load.py; README "Robustness and load" quotes its figures). Exit 1 on any error.
load: $(VENV)/.dev
	$(BIN)/python -m bench.load

lint: $(VENV)/.dev
	$(BIN)/ruff check shared functions tests

.PHONY: help serve test lint load
