# The two-command set-up: `make demo` then `make test`. Everything runs inside .venv.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SAMPLE := examples/sample-ai-project

.PHONY: help venv install dev demo test test-fast lint fmt sample clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

venv: $(BIN)/python  ## create the virtualenv

install: $(VENV)/.installed  ## install ramparts into .venv

dev: $(VENV)/.installed-dev  ## install ramparts with test and lint tools

demo: install  ## scan the bundled sample project with embedded defaults
	$(BIN)/python examples/generate_sample_project.py --check
	@echo "== ramparts scan $(SAMPLE)"
	-$(BIN)/ramparts scan $(SAMPLE)
	@echo "== the same as SARIF for code scanning: .ramparts/demo.sarif"
	-$(BIN)/ramparts --quiet scan $(SAMPLE) --format sarif --output .ramparts/demo.sarif
	@echo "== ramparts sign / verify: sign a copy of the sample's models, then tamper with it"
	@rm -rf .ramparts/demo-sign && mkdir -p .ramparts/demo-sign
	$(BIN)/ramparts keygen .ramparts/demo-sign/signing.pem
	cp -R $(SAMPLE)/models .ramparts/demo-sign/models
	$(BIN)/ramparts sign .ramparts/demo-sign/models --key .ramparts/demo-sign/signing.pem
	$(BIN)/ramparts verify .ramparts/demo-sign/models --key .ramparts/demo-sign/signing.pub.pem
	cp -R .ramparts/demo-sign/models .ramparts/demo-sign/tampered
	printf 'x' >> .ramparts/demo-sign/tampered/encoder.safetensors
	@if $(BIN)/ramparts verify .ramparts/demo-sign/tampered --key .ramparts/demo-sign/signing.pub.pem; \
	then echo "demo: the tampered copy verified; this is a bug" >&2; exit 1; \
	else echo "(exit $$?: the tampered copy is refused, as it must be)"; fi
	@echo "== ramparts registry: gates refuse the sample model until it is clean, signed and approved"
	bash examples/registry_demo.sh $(BIN) $(SAMPLE) .ramparts/demo-registry
	@echo "== ramparts gateway: a normal request, a prompt injection and a card number, audited"
	bash examples/gateway_demo.sh $(BIN) .ramparts/demo-gateway
	@echo "== ramparts posture: score the sample project, fix what fails, score it again"
	bash examples/posture_demo.sh $(BIN) $(SAMPLE) .ramparts/demo-posture
	@echo "demo done: the findings above are planted in $(SAMPLE) (see its README)"

test: dev  ## run the whole test suite
	@# pytest exits 5 when it collected nothing: a suite that ran no test is a failure here.
	$(BIN)/python -m pytest -q $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

test-fast: dev  ## the suite without the slow marker
	$(BIN)/python -m pytest -q -m 'not slow' $(PYTEST_ARGS)

lint: dev  ## ruff, mypy --strict, import-linter
	$(BIN)/ruff check src tests examples benchmarks
	$(BIN)/ruff format --check src tests examples benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

fmt: dev  ## format and autofix
	$(BIN)/ruff format src tests examples benchmarks
	$(BIN)/ruff check --fix src tests examples benchmarks

sample:  ## regenerate the sample project
	$(PYTHON) examples/generate_sample_project.py

clean:  ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .ramparts
