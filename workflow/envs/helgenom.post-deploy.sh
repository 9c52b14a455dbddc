#!/usr/bin/env bash
# Snakemake runs this inside the new `helgenom` conda env: install this checkout's package
# (the Snakefile exports HELGENOM_SRC, the repository root) so rules can call `helgenom`.
set -euo pipefail
python -m pip install --no-deps "${HELGENOM_SRC:?HELGENOM_SRC is set by workflow/rules/common.smk}"
