# Two commands set everything up on a fresh machine:
#   make run    install into .venv and launch the app on its built-in default design
#   make test   install into .venv and run the whole test suite
#   make test-fast   the same without the tests marked slow (real training runs), for the inner loop
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
# torch/torchvision are pinned to the builds that pip finds on this project's machines; any
# torch>=2.10 works (pyproject), these pins only keep pip from fetching a different multi-GB build.
TORCH  := torch==2.14.1 torchvision==0.29.1

.PHONY: run test test-fast lint install benchmarks clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(VENV)/bin/netdesigner $(ARGS)

test: install lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest $(PYTEST_ARGS)

test-fast: install lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .

benchmarks: install
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info
