# Clinic assistant: every command a developer or CI needs. `make help` lists them.
# Each target sets up what it needs: the virtual environment (python3.10), the packages,
# the spaCy pipeline and a trained model (reused while config, domain and data are unchanged).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON310 ?= $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 /usr/local/bin/python3.10 /usr/bin/python3.10; do \
                 if $$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1; then echo $$p; break; fi; done)
VENV       := .venv
PY         := $(VENV)/bin/python
RASA       := $(VENV)/bin/rasa
INSTALLED  := $(VENV)/.installed

CONFIG     := config.yml
DOMAIN     := bot/domain
DATA       := bot/data
ENDPOINTS  := bot/endpoints.yml
CREDENTIALS:= bot/credentials.yml
SPACY_DIR  := models/spacy/clinic_en

CHROMIUM   := /usr/bin/chromium
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

HOST         ?= 127.0.0.1
PORT         ?= 5005
ACTIONS_PORT ?= 5055

export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_TELEMETRY_ENABLED := false
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export ACTION_ENDPOINT_URL ?= http://127.0.0.1:$(ACTIONS_PORT)/webhook

# The model is named after a digest of everything training reads, so an unchanged project
# reuses its model and any change trains a new one.
FINGERPRINT = $(shell cat $(CONFIG) bot/nlp/*.yml bot/nlp/*.py $$(find $(DOMAIN) $(DATA) -name '*.yml' | LC_ALL=C sort) | sha256sum | cut -c1-16)
MODEL       = models/clinic-$(FINGERPRINT).tar.gz

.PHONY: help venv spacy validate lint train widget run run-cluster shell test test-stories eval-realworld bench migrate staff-user purge clean

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

$(INSTALLED): requirements.txt requirements-dev.txt requirements.lock
	@test -n "$(PYTHON310)" || { echo "python3.10 is needed (Rasa 3.6 supports Python 3.8-3.10)"; exit 1; }
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip==24.0"
	$(PY) -m pip install --quiet -r requirements-dev.txt -c requirements.lock
	@touch $@

venv: $(INSTALLED) ## Create .venv with python3.10 and install the pinned packages

spacy: $(INSTALLED) ## Build the project's spaCy pipeline into models/spacy/
	@$(PY) -m bot.nlp.build_pipeline --out $(SPACY_DIR)

validate: spacy ## Check domain, data and stories (warnings are errors)
	$(PY) -m bot.validate -c $(CONFIG) -d $(DOMAIN) --data $(DATA)

lint: $(INSTALLED) ## Check the Python code: ruff (errors, imports, bugbear, async) and mypy (every function typed)
	$(VENV)/bin/ruff check bot
	$(VENV)/bin/mypy bot

train: validate ## Train the model if config, domain, data or terms changed
	@if [ -f $(MODEL) ]; then echo "Model is up to date: $(MODEL)"; else \
	  echo "Training $(MODEL)"; \
	  $(RASA) train -c $(CONFIG) -d $(DOMAIN) --data $(DATA) --out models \
	    --fixed-model-name clinic-$(FINGERPRINT) && \
	  find models -maxdepth 1 -name 'clinic-*.tar.gz' ! -name 'clinic-$(FINGERPRINT).tar.gz' -delete; fi

widget: ## Assemble widget/widget.js, the one file sites embed, from its ES modules
	@python3 widget/build.py

run: train widget migrate ## Start the assistant, the widget demo page and the action server
	@mkdir -p var
	@echo "Widget demo page: http://$(HOST):$(PORT)/webhooks/web/demo.html"
	@echo "Staff console:    http://$(HOST):$(PORT)/webhooks/staff/  (accounts: make staff-user)"
	@echo "REST channel:     http://$(HOST):$(PORT)/webhooks/rest/webhook  (POST {\"sender\": \"me\", \"message\": \"hi\"})"
	@trap 'kill 0' EXIT INT TERM; \
	  ACTIONS_HOST=$(HOST) $(PY) -m bot.actions.server --port $(ACTIONS_PORT) & \
	  $(RASA) run -m $(MODEL) -i $(HOST) -p $(PORT) --endpoints $(ENDPOINTS) --credentials $(CREDENTIALS) & \
	  wait

SERVERS      ?= 2
WORKERS      ?= 1
CLUSTER_PORT ?= 8080
run-cluster: train widget ## Several servers behind nginx on PostgreSQL + Redis: make run-cluster [SERVERS=2 WORKERS=1]
	CLINIC_MODEL=$(MODEL) $(PY) -m cluster.run --servers $(SERVERS) --workers $(WORKERS) --port $(CLUSTER_PORT)

shell: train migrate ## Talk to the assistant in this terminal
	@mkdir -p var
	@trap 'kill 0' EXIT INT TERM; \
	  $(PY) -m bot.actions.server --port $(ACTIONS_PORT) >var/actions-shell.log 2>&1 & \
	  $(RASA) shell -m $(MODEL) --endpoints $(ENDPOINTS)

test: lint train widget $(CHROMIUM) ## Run every test: lint, data validation, unit, test stories, end-to-end, browser
	CLINIC_MODEL=$(MODEL) $(PY) -m pytest

BENCH_VISITORS ?= 500
BENCH_CHAT_S   ?= 240
bench: train ## Issue 17's figures vs a stock rasa init bot, reading-and-typing visitors [BENCH_VISITORS=500 BENCH_CHAT_S=240], then chat latency, 200 sockets, hand-off, review at 100k, 1 vs 2 servers (bench/results/)
	CLINIC_MODEL=$(MODEL) $(PY) -m bench.perf_run --visitors $(BENCH_VISITORS) --chat-s $(BENCH_CHAT_S)
	CLINIC_MODEL=$(MODEL) $(PY) -m bench.run
	CLINIC_MODEL=$(MODEL) $(PY) -m bench.handoff_bench
	CLINIC_MODEL=$(MODEL) $(PY) -m bench.cluster_bench
	$(PY) -m bench.review_bench
	$(PY) -m bench.review_bench --postgresql

# Browser tests drive Debian's Chromium with Playwright (no browser download).
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) apt-get install -y -qq --no-install-recommends chromium

eval-realworld: train ## Real visitors' questions: right / honest / wrong per label on both halves, and the confusions
	REALWORLD_REPORT=1 CLINIC_MODEL=$(MODEL) $(PY) -m pytest -s -q tests/test_realworld.py

test-stories: train ## Only the Rasa test stories
	CLINIC_MODEL=$(MODEL) $(PY) -m pytest tests/test_stories.py

migrate: $(INSTALLED) ## Create or upgrade the database tables (the deploy step; servers refuse an old schema)
	$(PY) -m bot.store.migrate

ROLE ?= coordinator
staff-user: $(INSTALLED) ## Create a staff account: make staff-user EMAIL=... NAME=... ROLE=coordinator
	@test -n "$(EMAIL)" -a -n "$(NAME)" || { echo "Usage: make staff-user EMAIL=sam@clinic.example NAME=Sam [ROLE=coordinator|admin]"; exit 2; }
	$(PY) -m bot.staff.cli create --email "$(EMAIL)" --name "$(NAME)" --role "$(ROLE)"

purge: $(INSTALLED) ## Delete conversations older than N days: make purge DAYS=N [DRY_RUN=1] [AUDIT_DAYS=M]
	@test -n "$(DAYS)" || { echo "Usage: make purge DAYS=N [DRY_RUN=1] [AUDIT_DAYS=M]"; exit 2; }
	$(PY) -m bot.review.purge_cli --days "$(DAYS)" $(if $(DRY_RUN),--dry-run) $(if $(AUDIT_DAYS),--audit-days "$(AUDIT_DAYS)")

clean: ## Remove trained models, the built spaCy pipeline, results and caches
	rm -rf models/*.tar.gz models/spacy results tests/artifacts .pytest_cache widget/widget.js
	find . -name __pycache__ -not -path './$(VENV)/*' -prune -exec rm -rf {} +
