# SENet Lab — the two commands: `make app` (the dashboard) and `make test` (everything).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.installed

.PHONY: setup app test test-fast lint format notebooks notebooks-quick notebooks-laptop notebooks-sync notebooks-stalls lab info chromium clean

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

# The whole suite, slow tests included, after the linter and the formatter check (this is what CI runs), in
# parallel: one pytest-xdist worker a core, at most 4 (each worker holds its own torch and models);
# `make test TEST_WORKERS=0` runs it in one process. On the 2-core CI machine: 15 min against 21 min serial.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n < 4 ? n : 4 )))
PYTEST = $(PY) -m pytest -n $(TEST_WORKERS) --dist worksteal
test: $(STAMP) chromium lint
	$(PYTEST)

# ruff (settings in pyproject.toml): lint rules and the formatter's check; `make format` applies both.
lint: $(STAMP)
	$(PY) -m ruff check senet_lib app tests notebooks experiments
	$(PY) -m ruff format --check senet_lib app tests notebooks experiments

format: $(STAMP)
	$(PY) -m ruff check --fix senet_lib app tests notebooks experiments
	$(PY) -m ruff format senet_lib app tests notebooks experiments

# Everything but the tests marked slow (in parallel too).
test-fast: $(STAMP)
	$(PYTEST) -m "not slow"

# Execute every course notebook, worked solutions filled in, and write HTML copies to notebooks/_html/:
# `make notebooks` in the full tier (paper scale, meant for a GPU), -quick in the CI tier (seconds each),
# -laptop in the laptop tier (each notebook <= 10 min on a 2-core CPU; prints each notebook's time).
notebooks: $(STAMP)
	$(PY) -m senet_lib course --tier full

notebooks-quick: $(STAMP)
	$(PY) -m senet_lib course --tier quick

notebooks-laptop: $(STAMP)
	$(PY) -m senet_lib course --tier laptop

# The notebooks' sources are the jupytext percent files notebooks/NN_*.py: after editing one, pair it again
# (the newer of each .py / .ipynb pair updates the other; tests/course/test_sources.py checks they agree).
notebooks-sync: $(STAMP)
	$(PY) -m jupytext --sync notebooks/[0-9][0-9]_*.py

# Stall check: every notebook RUNS times (default 20) under plain nbclient with its default settings, quick
# tier; reports the longest wait between cells and fails above 10 s.
RUNS ?= 20
notebooks-stalls: $(STAMP)
	$(PY) -m senet_lib course --stalls $(RUNS)

# Open the course in JupyterLab.
lab: $(STAMP)
	$(PY) -m jupyterlab notebooks/

info: $(STAMP)
	$(PY) -m senet_lib info se_resnet50

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
