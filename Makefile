# The two commands of the README: `make demo` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
DEMO_USER ?= demo
DEMO_PASSWORD ?= demo
PORT ?= 8000
# make test runs against the real services this machine kind provides; CI sets the same.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/zooboard
TEST_BROKER_URL ?= redis://127.0.0.1:6379/0
# The demo's ImageNet boards: ZOOBOARD_IMAGENET_IMAGES (a val folder or tar), else the 1,300 real val images of
# the shared data folder beside the checkout; neither, and the demo says so and goes on with CIFAR-10 alone.
SHARED_DATA ?= ../shared/data
SHARED_IMAGENET_TAR := $(SHARED_DATA)/imagenet-val-images/verisilicon_227px/ilsvrc2012_val_1300_227px.tar
IMAGENET_IMAGES ?= $(or $(ZOOBOARD_IMAGENET_IMAGES),$(wildcard $(SHARED_IMAGENET_TAR)))
LITE_VARIANTS := 0 1 2

.PHONY: venv demo test lint models serve-worker clean

venv: $(VENV)/.installed

$(VENV)/.installed: requirements-base.txt requirements.txt requirements-dev.txt
	test -d $(VENV) || python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

models: venv
	$(PY) -m evaluator.conversion var/models

# Embedded defaults: SQLite under var/ and kombu's filesystem broker; a real worker and gunicorn. The site and
# the worker find the converted EfficientNet-Lite weights in var/timm-weights.
demo: export ZOOBOARD_TIMM_WEIGHTS_DIR := $(CURDIR)/var/timm-weights
demo: venv models
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py rank
	$(PY) manage.py collectstatic --noinput -v0
	$(PY) manage.py import_testset cifar10
	$(PY) manage.py ensure_user $(DEMO_USER) --password $(DEMO_PASSWORD) --staff
	@if [ -n "$(IMAGENET_IMAGES)" ]; then \
	  $(PY) -m evaluator.conversion $$ZOOBOARD_TIMM_WEIGHTS_DIR --efficientnet-lite && \
	  $(PY) manage.py import_testset imagenet --images "$(IMAGENET_IMAGES)"; \
	else echo "ImageNet: no val images ($(SHARED_DATA) or ZOOBOARD_IMAGENET_IMAGES), so no ImageNet boards"; fi
	@trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/celery -A config worker -Q cpu -c 1 --without-mingle --without-gossip -l warning & worker=$$!; \
	for model in var/models/*.onnx; do $(PY) manage.py submit $$model --user $(DEMO_USER) --testset cifar10 --architecture resnet --once; done; \
	if [ -n "$(IMAGENET_IMAGES)" ]; then for n in $(LITE_VARIANTS); do \
	  $(PY) manage.py submit timm:tf_efficientnet_lite$$n.tflite_in1k --user $(DEMO_USER) --testset imagenet \
	    --name "EfficientNet-Lite$$n (TF-Lite)" --licence Apache-2.0 --once; done; fi; \
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
