#!/usr/bin/env bash
# Make sure the command-line tools the workflow runs are on PATH.
# 1. Already there: nothing to do.
# 2. Root on Debian/Ubuntu: install the OS packages with apt-get.
# 3. conda/mamba available: create ./.conda-env from environment.yml (the Makefile puts it on PATH).
# 4. Otherwise: say exactly what is missing and how to install it, and fail.
set -euo pipefail
cd "$(dirname "$0")/../.."

tools=(bwa samtools bcftools tabix bgzip fastp mosdepth delly freebayes tiddit)
apt_packages=(bwa samtools bcftools tabix fastp mosdepth libhts-dev delly freebayes tiddit)

missing() {
    local out=()
    for tool in "${tools[@]}"; do
        command -v "$tool" >/dev/null 2>&1 || out+=("$tool")
    done
    # Debian's mosdepth needs libhts.so from libhts-dev; it fails at start-up without it.
    if command -v mosdepth >/dev/null 2>&1 && ! mosdepth --version >/dev/null 2>&1; then
        out+=("mosdepth(libhts)")
    fi
    echo "${out[@]:-}"
}

todo=$(missing)
[ -z "$todo" ] && exit 0
echo "helgenom: missing tools: $todo"

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "helgenom: installing Debian packages: ${apt_packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
elif command -v mamba >/dev/null 2>&1 || command -v conda >/dev/null 2>&1; then
    solver=$(command -v mamba || command -v conda)
    echo "helgenom: creating ./.conda-env from environment.yml with $solver"
    "$solver" env create --yes --prefix .conda-env --file environment.yml
else
    cat >&2 <<MSG
helgenom: cannot install the missing tools ($todo) here: not root with apt-get, and no conda/mamba.
Install them with one of:
  sudo apt-get install ${apt_packages[*]}
  mamba env create --prefix .conda-env --file environment.yml   # then re-run make
MSG
    exit 1
fi

todo=$(missing)
if [ -n "$todo" ]; then
    echo "helgenom: still missing after installation: $todo" >&2
    exit 1
fi
