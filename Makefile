# The two commands of the README: `make chat` and `make test`.
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
export OMP_NUM_THREADS ?= 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup chat test clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

# Sets everything up, checks the corpus, builds the index if missing, then starts the chat.
# Two threads for the models when nothing else runs (tests keep one: OpenMP spins under contention).
chat: export OMP_NUM_THREADS = 2
chat: setup
	$(VENV)/bin/assistant chat

test: setup
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) index
