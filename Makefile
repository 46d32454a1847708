# The two commands of the README: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_USER ?= demo
DEMO_PASSWORD ?= demo
PORT ?= 8000
# make test runs against the real services this machine kind provides; CI sets the same.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/zooboard
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0

.PHONY: venv demo test lint models serve-worker clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-base.txt requirements.txt requirements-dev.txt
	test -d $(VENV) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

models: venv
	$(PY) -m evaluator.conversion var/models

# Embedded defaults: SQLite under var/ and kombu's filesystem broker; a real worker and gunicorn.
demo: venv models
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py rank
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py import_testset cifar10
	$(PY) manage.py ensure_user $(DEMO_USER) --password $(DEMO_PASSWORD) --staff
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/celery -A config worker -Q cpu -c 1 --without-mingle --without-gossip -l warning & worker=$$!; \
	for model in var/models/*.onnx; do $(PY) manage.py submit $$model --user $(DEMO_USER) --testset cifar10 --architecture resnet --once; done; \
	echo; echo "Zooboard: http://127.0.0.1:$(PORT)  (sign in as $(DEMO_USER) / $(DEMO_PASSWORD); Ctrl-C stops)"; echo; \
	$(VENV)/bin/gunicorn config.wsgi -b 127.0.0.1:$(PORT) -w 2 --access-logfile -

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: venv lint
	ZOOBOARD_REQUIRE_SERVICES=1 \
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} CELERY_BROKER_URL=$${CELERY_BROKER_URL:-$(TEST_BROKER_URL)} \
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf var/
