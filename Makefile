# SENet Lab — the two commands: `make app` (dashboard, from the app issue) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: setup test test-fast info clean

# Create the virtual environment once and install the project (editable) with every extra.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev,notebooks,app]"
	touch $(STAMP)

setup: $(STAMP)

# The whole suite, slow tests included (this is what CI runs).
test: $(STAMP)
	$(PY) -m pytest

# Everything but the tests marked slow.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

info: $(STAMP)
	$(PY) -m senet_lib info se_resnet50

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
