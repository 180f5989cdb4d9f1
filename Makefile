# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat uv.lock infra/package-lock.json pyproject.toml | cksum | cut -d' ' -f1)
export UV_PROJECT_ENVIRONMENT := $(VENV)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test lint typecheck cfn-lint checkov fuzz unit integration e2e bench requirements clean

$(STAMP):
	@command -v java >/dev/null || (apt-get update -q && apt-get install -y -q openjdk-17-jre-headless)
	@command -v npm >/dev/null || (apt-get update -q && apt-get install -y -q nodejs npm)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check uv==0.13.9
	$(BIN)/uv sync --frozen --inexact --quiet
	npm ci --prefix infra --no-audit --no-fund --loglevel=error
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

## make run: the local stack on http://127.0.0.1:$${PORT:-3000} until Ctrl-C
run: install
	$(BIN)/python -m infra.local_stack

## make test: lint, types, template, and every test (unit, integration, end to end)
test: install lint typecheck cfn-lint checkov
	$(BIN)/python -m pytest -q

lint:
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck:
	$(BIN)/mypy

cfn-lint:
	$(BIN)/cfn-lint template.yaml

## checkov's policies on template.yaml; every skipped check says why (.checkov.yaml, Metadata)
checkov:
	$(BIN)/checkov --config-file .checkov.yaml -f template.yaml

unit: install
	$(BIN)/python -m pytest -q tests/unit

integration: install
	$(BIN)/python -m pytest -q tests/integration

e2e: install
	$(BIN)/python -m pytest -q tests/e2e

## make fuzz: generated requests over the whole API on the local stack (>= 2,000; README "Tests")
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-40} FUZZ_MIN_REQUESTS=$${FUZZ_MIN_REQUESTS:-2000} \
		$(BIN)/python -m pytest -q -s -p no:cacheprovider tests/e2e/test_fuzz.py

## make bench: benchmarks on DynamoDB Local, not part of `make test` (README "Performance")
bench: install
	$(BIN)/python -m bench.run

## The layer's requirements.txt (what `sam build` installs) comes from the lock file.
requirements: install
	$(BIN)/uv export --frozen --no-dev --no-hashes --no-emit-project --quiet -o layers/common/requirements.txt

clean:
	rm -rf $(VENV) infra/node_modules .local .mypy_cache .ruff_cache .pytest_cache .hypothesis
