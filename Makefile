# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat uv.lock infra/package-lock.json console/package-lock.json pyproject.toml | cksum | cut -d' ' -f1)
export UV_PROJECT_ENVIRONMENT := $(VENV)
export PYTHONDONTWRITEBYTECODE := 1
## The browser the console's tests drive (Debian's; Playwright cannot download its own here).
CHROMIUM ?= /usr/bin/chromium

.PHONY: install run migrate test soak lint typecheck cfn-lint checkov fuzz unit integration e2e browser screenshots deploy-console bench requirements build clean

## The SAM CLI in a venv of its own: its pins (boto3, pydantic, cfn-lint) cannot share the
## product's lock (docs/dependencies.md)
SAM_CLI_VERSION := 1.170.0
SAM_VENV := .venv-sam

$(STAMP):
	@command -v javac >/dev/null || (apt-get update -q && apt-get install -y -q openjdk-17-jdk-headless)
	@command -v npm >/dev/null || (apt-get update -q && apt-get install -y -q nodejs npm)
	@test -x $(CHROMIUM) || (apt-get update -q && apt-get install -y -q chromium)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check uv==0.13.9
	$(BIN)/uv sync --frozen --inexact --quiet
	$(SAM_VENV)/bin/sam --version 2>/dev/null | grep -q $(SAM_CLI_VERSION) || \
		($(BIN)/uv venv -q --allow-existing -p 3.11 $(SAM_VENV) && \
		 $(BIN)/uv pip install -q -p $(SAM_VENV)/bin/python aws-sam-cli==$(SAM_CLI_VERSION))
	npm ci --prefix infra --no-audit --no-fund --loglevel=error
	npm ci --prefix console --no-audit --no-fund --loglevel=error
	mkdir -p console/vendor
	cp console/node_modules/preact/dist/preact.mjs console/node_modules/preact/hooks/dist/hooks.mjs \
	   console/node_modules/htm/dist/htm.mjs console/vendor/
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

## make migrate: the local store's data upgraded (docs/operations.md, Upgrade); `make run`
## does it at every start too. Stop `make run` first: both use .local/dynamodb.
migrate: install
	$(BIN)/python -m infra.local_stack --migrate

## make run: the local stack on http://127.0.0.1:$${PORT:-3000} until Ctrl-C
run: install
	$(BIN)/python -m infra.local_stack

# pytest-xdist workers (each with its own DynamoDB Local and local stack); `auto`: one per CPU
PYTEST_WORKERS ?= auto
PYTEST_PARALLEL := -n $(PYTEST_WORKERS)

## make test: lint, types, template, and every test (unit, integration, end to end),
## the tests spread over the CPUs; the 15 slowest are listed at the end
test: install lint typecheck cfn-lint checkov
	$(BIN)/python -m pytest -q $(PYTEST_PARALLEL) --durations=15

## make soak: the end-to-end and concurrency tiers SOAK_COUNT times over (not in `make test`)
SOAK_COUNT ?= 20
SOAK_TESTS ?= tests/e2e tests/integration/test_posting_concurrency.py \
	tests/integration/test_worker.py tests/integration/test_notifications.py \
	tests/integration/test_income_schedules.py tests/integration/test_local_infra.py \
	tests/integration/test_store_invariants.py tests/integration/test_batch_posting.py \
	tests/integration/test_matching_concurrency.py tests/integration/test_recurring_concurrency.py \
	tests/integration/test_verification_races.py
soak: install
	$(BIN)/python -m pytest -q -p no:cacheprovider $(PYTEST_PARALLEL) --count $(SOAK_COUNT) \
		--durations=15 $(SOAK_TESTS)

lint:
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck:
	$(BIN)/mypy

## template.yaml and the queue pattern it nests (infra/queue.yaml)
TEMPLATES := template.yaml infra/queue.yaml

cfn-lint:
	$(BIN)/cfn-lint $(TEMPLATES)

## checkov's policies on the templates; every skipped check says why (.checkov.yaml, Metadata)
checkov:
	$(BIN)/checkov --config-file .checkov.yaml $(addprefix -f ,$(TEMPLATES))

unit: install
	$(BIN)/python -m pytest -q tests/unit

integration: install
	$(BIN)/python -m pytest -q tests/integration

e2e: install
	$(BIN)/python -m pytest -q tests/e2e

## make browser: the console's tests in Chromium (part of `make test`)
browser: install
	$(BIN)/python -m pytest -q tests/browser

## make screenshots: the console's main pages as docs/screenshots/*.png (shown in docs/console.md)
screenshots: install
	$(BIN)/python -m tests.browser.screenshots docs/screenshots

## make deploy-console STACK=<stack name>: publish console/ to the deployed stack's hosting
deploy-console: install
	$(BIN)/python -m infra.deploy_console $(STACK)

## make fuzz: generated requests over the whole API on the local stack (>= 2,000; docs/testing.md)
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-40} FUZZ_MIN_REQUESTS=$${FUZZ_MIN_REQUESTS:-2000} \
		$(BIN)/python -m pytest -q -s -p no:cacheprovider tests/e2e/test_fuzz.py

## make bench: benchmarks on DynamoDB Local, not part of `make test` (docs/performance.md)
bench: install
	$(BIN)/python -m bench.run

## make build: `sam build` of template.yaml into .aws-sam/build (the layer: layers/common/Makefile)
build: install
	$(SAM_VENV)/bin/sam build --template template.yaml --build-dir .aws-sam/build

## The layer's requirements.txt (what `sam build` installs) comes from the lock file.
requirements: install
	$(BIN)/uv export --frozen --no-dev --no-hashes --no-emit-project --quiet -o layers/common/requirements.txt

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam infra/node_modules console/node_modules console/vendor .local .mypy_cache .ruff_cache .pytest_cache .hypothesis
