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
	@echo "make sam-build  build the AWS Lambda bundle with the SAM CLI (then: sam deploy --guided)"
	@echo "make tools   install the build-check tools (Vercel and Netlify CLIs, Node; never deployed)"
	@echo "make check-deploy   run only the tests that drive those CLIs (fails if they are missing)"
	@echo "make bench   measure overhead, connection reuse, cold start, bundle, memory (fails on a missed target)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade --quiet pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt requirements-otel.txt requirements-auth.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

# Benchmark tools (Flask for the seed-style baseline, pyinstrument) go into .venv, never a bundle.
$(VENV)/.bench: bench/requirements.txt requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r bench/requirements.txt
	touch $@ $(VENV)/.dev $(VENV)/.runtime

# Portkey's gateway, the peer of the throughput row (Node, bench only: never deployed, never in `make test`).
bench/node/node_modules/.installed: bench/node/package.json bench/node/package-lock.json
	cd bench/node && npm ci --no-audit --no-fund --ignore-scripts
	touch $@

bench: $(VENV)/.bench bench/node/node_modules/.installed
	$(BIN)/python -m bench

.PHONY: bench

serve: $(VENV)/.runtime
	$(BIN)/python -m functions.local.server --host $(HOST) --port $(PORT)

# Everything the suite drives is installed here, so nothing is skipped: the dev venv, the pinned
# build-check CLIs (npm) and Debian's Chromium for the browser tests (apt, when run as root).
test: $(VENV)/.dev tools chromium redis lint
	$(BIN)/python -m pytest

# Debian packages the suite runs for real, installed with apt when run as root (as CI is).
APT_INSTALL = if [ "$$(id -u)" = 0 ]; then export DEBIAN_FRONTEND=noninteractive; \
	  apt-get update -qq && apt-get install -y -qq $(1) >/dev/null; \
	  else echo "The suite needs Debian's $(1): sudo apt-get install $(1)" >&2; exit 1; fi

chromium:
	@[ -x /usr/bin/chromium ] || { $(call APT_INSTALL,chromium); }

# The spend-limit tests start their own redis-server on a free loopback port (tests/fakes/redis_server.py).
redis:
	@command -v redis-server >/dev/null || { $(call APT_INSTALL,redis-server); }

# Not a test: 500 requests, 50 at a time, through the `make serve` server to a loopback upstream that
# takes 1 s (bench/load.py; docs/robustness.md quotes its figures). Exit 1 on any error.
load: $(VENV)/.dev
	$(BIN)/python -m bench.load

# Style and types: part of `make test`, so CI fails on either (config in pyproject.toml).
LINTED := shared functions tests bench api
lint: $(VENV)/.dev
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

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

.PHONY: help serve test lint load tools check-deploy chromium redis


# --- AWS Lambda bundle (SAM) -------------------------------------------------------------------
# `sam build` runs this target because template.yaml says `BuildMethod: makefile` (SAM sets
# ARTIFACTS_DIR): https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/building-custom-runtimes.html
# Only the core and the Lambda adapter are copied, plus requirements.txt installed as wheels for
# the Lambda platform (whatever the build machine is). Tests and dev tools never enter the zip;
# boto3 is not installed: the Lambda Python runtime provides it.
LAMBDA_PLATFORM ?= manylinux2014_x86_64
# On AWS the spend limits count in DynamoDB (boto3, the runtime's): redis-py (~5 MB) stays out of
# the zip. QUOTA_STORE=redis on Lambda then answers server_misconfigured, naming the package.
LAMBDA_LEAVE_OUT := redis
# Optional requirement files added to the bundle, e.g. LAMBDA_EXTRAS=requirements-auth.txt (sign-in).
LAMBDA_EXTRAS ?=
LAMBDA_PYTHON_VERSION ?= 3.12

build-HfProxyFunction:
	@test -n "$(ARTIFACTS_DIR)" || { echo "ARTIFACTS_DIR is not set (sam build sets it)"; exit 1; }
	mkdir -p "$(ARTIFACTS_DIR)/functions"
	cp -R shared "$(ARTIFACTS_DIR)/"
	cp -R functions/__init__.py functions/aws_lambda "$(ARTIFACTS_DIR)/functions/"
	find "$(ARTIFACTS_DIR)" -name __pycache__ -prune -exec rm -rf {} +
	grep -v -E '^($(LAMBDA_LEAVE_OUT))==' requirements.txt > "$(ARTIFACTS_DIR)/.requirements.txt"
	$(if $(LAMBDA_EXTRAS),cat $(LAMBDA_EXTRAS) >> "$(ARTIFACTS_DIR)/.requirements.txt")
	$(PYTHON) -m pip install --quiet --disable-pip-version-check --no-compile --target "$(ARTIFACTS_DIR)" \
		--platform $(LAMBDA_PLATFORM) --implementation cp --python-version $(LAMBDA_PYTHON_VERSION) \
		--only-binary=:all: -r "$(ARTIFACTS_DIR)/.requirements.txt"
	rm "$(ARTIFACTS_DIR)/.requirements.txt"
	rm -rf "$(ARTIFACTS_DIR)/bin"
	@# Lambda cannot write __pycache__ (read-only /var/task), and a zip keeps mtimes to 2 s, which can
	@# invalidate timestamp-checked .pyc: ship hash-based ones that skip the check (PEP 552), built
	@# by a 3.12 interpreter (the runtime's magic number) when this machine has one.
	if $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then \
		$(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(ARTIFACTS_DIR)"; fi

# The streaming function (template.yaml, HfProxyStreamFunction): the same bundle plus the project's
# HTTP server (functions/local), which the Lambda Web Adapter runs through functions/aws_lambda/run.sh.
build-HfProxyStreamFunction: build-HfProxyFunction
	mkdir -p "$(ARTIFACTS_DIR)/functions/local"
	cp functions/local/*.py "$(ARTIFACTS_DIR)/functions/local/"
	chmod +x "$(ARTIFACTS_DIR)/functions/aws_lambda/run.sh"
	if $(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'; then \
		$(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(ARTIFACTS_DIR)/functions/local"; fi

# The SAM CLI pins many packages: it lives in its own venv, never in .venv.
SAM_CLI_VERSION ?= 1.170.0
SAM := .venv-sam/bin/sam
export SAM_CLI_TELEMETRY := 0

$(SAM):
	$(PYTHON) -m venv .venv-sam
	.venv-sam/bin/python -m pip install --quiet --upgrade pip
	.venv-sam/bin/pip install --quiet aws-sam-cli==$(SAM_CLI_VERSION)

# --build-in-source: run the Makefile target in place instead of first copying the whole project
# (.venv included) to a scratch folder; the result is the same.
sam-build: $(SAM)
	$(SAM) build --build-in-source

# CI: the real SAM CLI validates the template and builds the bundle, then the bundle and template
# tests run again on that exact output.
check-sam: $(SAM) $(VENV)/.dev
	$(SAM) validate --lint --region us-east-1
	rm -rf .aws-sam
	$(SAM) build --build-in-source
	HFPROXY_SAM_BUILD_DIR=.aws-sam/build/HfProxyFunction $(BIN)/python -m pytest -q \
		tests/functions/aws_lambda/test_bundle.py tests/functions/aws_lambda/test_template.py

.PHONY: build-HfProxyFunction build-HfProxyStreamFunction sam-build check-sam
