# The two commands of the README: `make demo` and `make test`.
# Everything they need is installed from here: Python packages via pyproject.toml
# into .venv, Debian packages via apt-get (only when a command is missing).

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Debian packages the suite or its tests call, as "command:package" pairs
# (chromium and its driver: the HTML diff report is tested in a real headless browser;
# ssh-keygen and gpg: signed commits are made and verified in the tests).
DEB_DEPS := git:git chromium:chromium chromedriver:chromium-driver ssh-keygen:openssh-client gpg:gnupg

.PHONY: demo test lint bench deps-debian examples clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

deps-debian:
	@missing=""; for pair in $(DEB_DEPS); do \
	  cmd=$${pair%%:*}; pkg=$${pair#*:}; \
	  command -v $$cmd >/dev/null 2>&1 || missing="$$missing $$pkg"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO=sudo; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing; \
	fi

# the clean run on examples/, then a sample change (on a branch of a temporary copy) caught at file and line
demo: deps-debian $(STAMP)
	$(PY) -m checks --configs examples/customer-configs --infra examples/platform-infrastructure
	$(PY) tools/demo_change.py

test: deps-debian $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m checks policy test
	$(PY) -m pytest -q -n 2 -p no:cacheprovider

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m mypy

BENCH_ARGS ?=
bench: deps-debian $(STAMP)
	$(PY) bench/run.py --sizes 10,1000 --growth 10000 $(BENCH_ARGS)
	$(PY) bench/infra_pr.py --sizes 100,1000

examples: $(STAMP)
	$(PY) tools/generate_examples.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
