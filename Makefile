# Gospubliki Hub - every command creates .venv itself on a fresh machine (python3 -m venv + pip).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
TOOLS := .venv-tools
SAM_REGION ?= eu-central-1

.PHONY: dev test lint typecheck cfn-lint pytest bench validate build clean train-triage eval-triage browser console

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

dev: $(STAMP) console  ## run the local stack with demo data on http://127.0.0.1:8000 (console at /console/)
	$(BIN)/gospubliki dev

test: lint typecheck cfn-lint pytest  ## everything CI runs

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy shared services tooling

cfn-lint: $(STAMP)
	$(BIN)/cfn-lint infra/template.yaml

pytest: $(STAMP) browser console
	$(BIN)/pytest

CONSOLE_VENDOR := console/app/vendor/.installed

browser:  ## Debian's Chromium for the console's browser tests (Playwright drives it; no browser download)
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)

console: $(CONSOLE_VENDOR)  ## the console's pinned libraries (npm ci), copied into console/app/vendor

$(CONSOLE_VENDOR): console/package.json console/package-lock.json console/vendor.mjs
	cd console && npm ci --ignore-scripts --no-audit --no-fund && npm run --silent vendor

bench: $(STAMP)  ## benchmarks, printed as ratios to baselines measured in the same run
	$(BIN)/python bench/cold_start.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/registry_import.py
	$(BIN)/python bench/registry_lists.py
	$(BIN)/python bench/load.py --import-institutions 5000
	$(BIN)/python bench/artifact_sizes.py
	$(BIN)/python bench/triage.py
	$(BIN)/python bench/metrics.py

train-triage: $(STAMP)  ## rebuild data/triage/model (LABELS=FILE.jsonl merges operator-corrected labels)
	$(BIN)/python -m tooling.triage.train $(if $(LABELS),--labels $(LABELS))

eval-triage: $(STAMP)  ## held-out (../shared/data/comments-dev.jsonl) and 5-fold cross-validated figures
	$(BIN)/python -m tooling.triage.evaluate $(if $(LABELS),--labels $(LABELS))

$(TOOLS)/bin/sam:
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check aws-sam-cli==1.170.0

validate: export SAM_CLI_TELEMETRY = 0
validate: $(TOOLS)/bin/sam  ## SAM translator + lint, in a separate venv (aws-sam-cli pins its own boto3)
	$(TOOLS)/bin/sam validate --template infra/template.yaml --region $(SAM_REGION)
	$(TOOLS)/bin/sam validate --template infra/template.yaml --region $(SAM_REGION) --lint

build: $(STAMP)  ## .aws-sam/build for sam deploy: code per function + dependencies layer (arm64 wheels via pip)
	$(BIN)/python -m tooling.build --out .aws-sam/build

clean:
	rm -rf $(VENV) $(TOOLS) .aws-sam .mypy_cache .ruff_cache
