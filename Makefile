# SENet Lab — the two commands: `make app` (the dashboard) and `make test` (everything).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: setup app test test-fast lint format notebooks notebooks-quick lab info chromium clean

# Create the virtual environment once and install the project (editable) with every extra.
$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install -e ".[dev,notebooks,app]"
	touch $(STAMP)

setup: $(STAMP)

# The dashboard: http://localhost:8501, offline, no usage statistics (settings: .streamlit/config.toml).
app: $(STAMP)
	$(PY) -m streamlit run app/dashboard.py --server.headless true --browser.gatherUsageStats false

# Chromium for the browser test (tests/test_app_browser.py), from Debian when missing; never `playwright install`.
CHROMIUM ?= /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Chromium not found at $(CHROMIUM): installing the Debian packages chromium chromium-driver"; \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver \
	    || echo "apt-get could not install chromium: the browser test fails under CI, is skipped elsewhere"; \
	  else \
	    echo "Cannot install chromium here (needs apt-get as root). Run: sudo apt-get install chromium chromium-driver;"; \
	    echo "until then the browser test is skipped (and fails under CI)."; \
	  fi; }

# The whole suite, slow tests included, after the linter and the formatter check (this is what CI runs).
test: $(STAMP) chromium lint
	$(PY) -m pytest

# ruff (settings in pyproject.toml): lint rules and the formatter's check; `make format` applies both.
lint: $(STAMP)
	$(PY) -m ruff check senet_lib app tests notebooks/_build experiments
	$(PY) -m ruff format --check senet_lib app tests notebooks/_build experiments

format: $(STAMP)
	$(PY) -m ruff check --fix senet_lib app tests notebooks/_build experiments
	$(PY) -m ruff format senet_lib app tests notebooks/_build experiments

# Everything but the tests marked slow.
test-fast: $(STAMP)
	$(PY) -m pytest -m "not slow"

# Execute every course notebook (full mode: meant for a GPU) and write HTML copies to notebooks/_html/.
notebooks: $(STAMP)
	$(PY) -m senet_lib course

# The same in quick mode (SENET_QUICK=1): about a minute per notebook on a CPU.
notebooks-quick: $(STAMP)
	$(PY) -m senet_lib course --quick

# Open the course in JupyterLab.
lab: $(STAMP)
	$(PY) -m jupyterlab notebooks/

info: $(STAMP)
	$(PY) -m senet_lib info se_resnet50

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
