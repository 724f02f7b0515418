# Loyalty platform: `make run` (local stack) and `make test` are all a new user needs; both create .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.stamp
CODE := shared functions app.py
STAGE ?= dev
AWS_DUMMY := AWS_DEFAULT_REGION=$${AWS_DEFAULT_REGION:-us-east-1} AWS_ACCESS_KEY_ID=$${AWS_ACCESS_KEY_ID:-testing} \
	AWS_SECRET_ACCESS_KEY=$${AWS_SECRET_ACCESS_KEY:-testing}

.DEFAULT_GOAL := help
.PHONY: help venv run dev schedule test lint fmt typecheck bench cost load package clean

help:
	@echo "make run      the package deployed by CloudFormation on ministack (API Gateway, Lambda, EventBridge, SQS) + demo tenant (Ctrl-C stops)"
	@echo "make dev      quick in-process stack: moto server + tables + demo tenant + chalice local (Ctrl-C stops)"
	@echo "make schedule JOB=<a job of shared/scheduled_jobs.py, e.g. remind> AT=<ISO-8601 time, e.g. 2027-01-01T09:00:00Z>"
	@echo "              run that scheduled job at AT against the running local stack; prints lots, members, messages"
	@echo "make test     ruff, ruff format --check, mypy, import-linter, pytest (unit, integration, e2e, property, packaging)"
	@echo "make lint     ruff check, ruff format --check, mypy, import-linter (the layers, pyproject.toml),"
	@echo "              functions <= 50 lines and radon maintainability >= 20 (scripts/check_code_shape.py)"
	@echo "make fmt      ruff format + ruff check --fix"
	@echo "make bench    DynamoDB requests/capacity per operation, latency via API Gateway, init per function, package size"
	@echo "make cost     docs/cost.md: 1 million paid orders priced from build/bench.json (run make bench first)"
	@echo "make load     locust: LOAD_REQUESTS (2000) requests by LOAD_USERS (8) users against the running local stack"
	@echo "              (or one it starts), report req/s and p50/p99, check the ledger invariants of every member touched"
	@echo "make package  chalice package --stage $(STAGE) (STAGE=prod for prod) with infra/resources.json merged, into build/package"
	@echo "make clean    remove .venv, build/ and caches"

venv: $(STAMP)

# Rebuilt only when a requirements file changes (or the venv is missing).
$(STAMP): requirements.txt requirements-dev.txt requirements-emulator.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV) || { \
		echo "venv without ensurepip (Debian/Ubuntu without python3-venv): bootstrapping pip with $(PY) -m pip"; \
		$(PY) -m venv --clear --without-pip $(VENV) && $(PY) -m pip --python $(BIN)/python install --quiet "pip<26.3"; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "pip<26.3"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-emulator.txt
	touch $@

# The package that ships, deployed by CloudFormation on ministack (API Gateway, Lambda, EventBridge, SQS, SES, SNS).
run: $(STAMP)
	$(BIN)/python scripts/deployed_stack.py

# The in-process stack for quick edit-and-retry: a moto server and `chalice local` (no schedules, no queue mapping).
dev: $(STAMP)
	$(BIN)/python scripts/local_stack.py

SCHEDULE_USAGE := usage: make schedule JOB=<a job of shared/scheduled_jobs.py, e.g. remind> AT=<ISO-8601 time with an offset, e.g. 2027-01-01T09:00:00Z>

schedule: $(STAMP)
	@test -n "$(JOB)" || { echo "JOB is missing. $(SCHEDULE_USAGE)" >&2; exit 2; }
	@test -n "$(AT)" || { echo "AT is missing. $(SCHEDULE_USAGE)" >&2; exit 2; }
	$(BIN)/python scripts/schedule.py "$(JOB)" "$(AT)"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(CODE)
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_code_shape.py $(CODE)

typecheck: $(STAMP)
	$(BIN)/mypy $(CODE)

# Two workers (pytest-xdist): the deployed tier and the packaging tests on one, in-process tiers on the other
# (tests/conftest.py WORKER_GROUPS). TEST_WORKERS=0 runs everything in this process.
TEST_WORKERS ?= 2
test: lint
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadgroup

fmt: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python scripts/bench.py

# LOAD_REQUESTS, LOAD_USERS, LOAD_SPAWN_RATE, LOAD_MEMBERS, LOAD_HOT, PORT/API_URL: see scripts/load/run.py
cost: $(STAMP)
	$(BIN)/python scripts/cost_model.py

load: $(STAMP)
	$(BIN)/python scripts/load/run.py

package: $(STAMP)
	$(AWS_DUMMY) $(BIN)/python scripts/package.py --stage $(STAGE) build/package
	@echo "build/package/sam.json + deployment.zip: see docs/deploy.md for aws cloudformation package/deploy"

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache .hypothesis .chalice/deployments
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
