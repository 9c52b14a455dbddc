#!/usr/bin/env bash
# Make sure the command-line tools the workflow runs are on PATH.
# 1. Already there: nothing to do.
# 2. Root on Debian/Ubuntu: install the OS packages with apt-get.
# 3. conda/mamba available: create ./.conda-env from environment.yml (the Makefile puts it on PATH).
# 4. Otherwise: say exactly what is missing and how to install it, and fail.
#
# --test (make test): also the tools only the tests use: Debian's chromium, in which
# tests/workflow/test_report_browser.py opens the HTML report (through Playwright, from the
# dev extra). Installed as root with apt-get; otherwise how to install it is printed and the
# browser test skips, saying why.
set -euo pipefail
cd "$(dirname "$0")/../.."

tools=(bwa samtools bcftools tabix bgzip fastp mosdepth delly freebayes tiddit)
apt_packages=(bwa samtools bcftools tabix fastp mosdepth libhts-dev delly freebayes tiddit)
test_tools=(chromium)
test_apt_packages=(chromium)

case "${1:-}" in
    "") with_test_tools=false ;;
    --test) with_test_tools=true ;;
    *) echo "usage: $0 [--test]" >&2; exit 2 ;;
esac

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

missing_test_tools() {
    local out=()
    for tool in "${test_tools[@]}"; do
        command -v "$tool" >/dev/null 2>&1 || out+=("$tool")
    done
    echo "${out[@]:-}"
}

can_apt() {
    [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
}

apt_install() {
    echo "helgenom: installing Debian packages: $*"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_workflow_tools() {
    local todo
    todo=$(missing)
    [ -z "$todo" ] && return 0
    echo "helgenom: missing tools: $todo"

    if can_apt; then
        apt_install "${apt_packages[@]}"
    elif command -v mamba >/dev/null 2>&1 || command -v conda >/dev/null 2>&1; then
        local solver
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
}

install_test_tools() {
    local todo
    todo=$(missing_test_tools)
    [ -z "$todo" ] && return 0
    if can_apt; then
        apt_install "${test_apt_packages[@]}"
        todo=$(missing_test_tools)
        [ -z "$todo" ] && return 0
        echo "helgenom: still missing after installation: $todo" >&2
        exit 1
    fi
    cat >&2 <<MSG
helgenom: the test tools $todo are missing (not root with apt-get): the browser test of the
HTML report will be skipped. Install them with:
  sudo apt-get install ${test_apt_packages[*]}
MSG
}

install_workflow_tools
if [ "$with_test_tools" = true ]; then
    install_test_tools
fi
