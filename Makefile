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
	@echo "make tools   install the build-check tools (Vercel and Netlify CLIs, Node; never deployed)"
	@echo "make check-deploy   run only the tests that drive those CLIs (fails if they are missing)"
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

# Everything the suite drives is installed here, so nothing is skipped: the dev venv, the pinned
# build-check CLIs (npm) and Debian's Chromium for the browser tests (apt, when run as root).
test: $(VENV)/.dev tools chromium
	$(BIN)/python -m pytest

chromium:
	@[ -x /usr/bin/chromium ] || { \
	  if [ "$$(id -u)" = 0 ]; then export DEBIAN_FRONTEND=noninteractive; apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "The browser tests need Debian's chromium: sudo apt-get install chromium" >&2; exit 1; fi; }

# Not a test: 500 requests, 50 at a time, through the `make serve` server to a loopback upstream that
# takes 1 s (bench/load.py; README "Robustness and load" quotes its figures). Exit 1 on any error.
load: $(VENV)/.dev
	$(BIN)/python -m bench.load

lint: $(VENV)/.dev
	$(BIN)/ruff check shared functions tests

# Build-check tools: Vercel's and Netlify's CLIs check our deploy configuration the way the
# platforms read it (`vercel build`, `netlify build/dev --offline`). Node runs them; nothing
# deployed needs Node. Pinned by .tools/package-lock.json.
TOOLS_BIN := .tools/node_modules/.bin

# `npm install --no-save` installs the locked versions; `npm ci` refuses this lock because npm
# leaves deno's other-platform optional packages out of it (https://github.com/npm/cli/issues/8320).
$(TOOLS_BIN)/vercel: .tools/package.json .tools/package-lock.json
	cd .tools && npm install --include=dev --no-save --no-audit --no-fund
	touch $@

tools: $(TOOLS_BIN)/vercel

check-deploy: $(VENV)/.dev tools
	$(BIN)/python -m pytest -m deploy_tools

.PHONY: help serve test lint load tools check-deploy chromium
