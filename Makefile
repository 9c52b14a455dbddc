# helgenom: `make demo` runs the workflow on the bundled demo trio; `make test` runs the tests.
# Both install what is missing first: a .venv with the package and its Python dependencies,
# and the bioinformatics tools (workflow/scripts/install-tools.sh).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
VENV ?= .venv
PYTHON ?= python3
CORES ?= 2
SEED ?= 1
SNAKEMAKE_ARGS ?=
PYTEST_ARGS ?=
# Tools installed from environment.yml with conda/mamba (install-tools.sh) live here.
export PATH := $(CURDIR)/.conda-env/bin:$(CURDIR)/$(VENV)/bin:$(PATH)

SNAKEMAKE := $(VENV)/bin/snakemake --snakefile workflow/Snakefile

.PHONY: demo test test-slurm lint tools test-tools venv clean-demo help

help:
	@echo "make demo   run the workflow on the demo trio (results in demo/results/)"
	@echo "make test   run the test suite"
	@echo "make lint   ruff, snakefmt --check, snakemake --lint"
	@echo "make test-slurm  only the tests on a real single-node SLURM cluster (root)"

# GENMOD in a venv of its own (its intervaltree>=3.1 conflicts with scout-browser's pin): the
# tests score helgenom's ranked VCFs with the real `genmod score` and compare.
GENMOD_VENV ?= .venv-genmod
GENMOD_VERSION := 3.12.0
export HELGENOM_GENMOD := $(CURDIR)/$(GENMOD_VENV)/bin/genmod

$(GENMOD_VENV)/.installed-$(GENMOD_VERSION):
	$(PYTHON) -m venv $(GENMOD_VENV)
	$(GENMOD_VENV)/bin/pip install --quiet genmod==$(GENMOD_VERSION)
	touch $@

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[workflow,dev]'
	touch $@

venv: $(VENV)/.installed

tools:
	@bash workflow/scripts/install-tools.sh

# The workflow's tools and those only the tests use (Debian's chromium for the report's browser
# test; Playwright comes with the dev extra).
test-tools:
	@bash workflow/scripts/install-tools.sh --test

# Simulated again when the simulator changed (an old demo/ may not match the current schema).
demo/.simulated: $(wildcard workflow/helgenom/simulate/*.py) | venv
	$(VENV)/bin/helgenom simulate --outdir demo --seed $(SEED)
	touch $@

demo: venv tools demo/.simulated
	$(SNAKEMAKE) --directory demo --configfile demo/config.yaml --cores $(CORES) \
		$(SNAKEMAKE_ARGS)
	@echo
	@echo "helgenom demo finished:"
	@for f in demo/results/*/*.candidates.tsv; do echo "  candidate list: $$f"; done
	@for f in demo/results/*/*.sv.vcf.gz; do echo "  ranked SVs:     $$f"; done
	@for f in demo/results/*/*.report.html; do echo "  family report:  $$f"; done
	@for f in demo/results/*/*.candidates.xlsx; do echo "  workbook:       $$f"; done
	@echo "  report index:   demo/results/index.html"
	@echo "  QC report:      demo/results/multiqc/multiqc_report.html"
	@echo "  run manifest:   demo/results/manifest.json"
	@echo "  frequency db:   demo/reference/freqdb (24 earlier families + DEMO; helgenom freqdb stats --db demo/reference/freqdb)"
	@echo "  planted truth:  demo/truth.tsv"

test: venv test-tools $(GENMOD_VENV)/.installed-$(GENMOD_VERSION)
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

test-slurm: venv tools
	$(VENV)/bin/python -m pytest -m slurm -v -rs $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/python -m pytest -q tests/workflow/test_lint.py tests/workflow/test_dryrun.py -k "lint or ruff or snakefmt"

clean-demo:
	rm -rf demo
