# trialmatch: `make demo` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/trialmatch demo

test: $(STAMP)
	$(BIN)/python -m pytest

# Accuracy and speed figures (README "Figures"); batch_throughput alone takes about 10 minutes.
BENCHES ?= parse_corpus lct_thresholds chia_concepts normalization_sample note_facts assertion \
           seed_match trialgpt_criteria note_throughput match_speed batch_throughput

bench: $(STAMP)
	@for b in $(BENCHES); do echo "== $$b"; $(BIN)/python benchmarks/$$b.py || exit 1; done

clean:
	rm -rf $(VENV) out .pytest_cache .hypothesis
