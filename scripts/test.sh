#!/usr/bin/env bash
# Install everything the tests need and run every test:  bash scripts/test.sh [pytest args]
# Creates .venv if missing, installs requirements-test.txt, installs Debian's chromium for the
# browser tests if /usr/lib/chromium/chromium is missing (as root, or with sudo), then runs
# `ruff check .` and `python -m pytest -q` (browser tests included). Exits non-zero on any failure,
# and also when pytest collected no test at all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CHROMIUM=/usr/lib/chromium/chromium

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else echo "Needs root to run: $*" >&2; return 1
    fi
}

python_311() {
    local candidate
    for candidate in "${PYTHON:-}" python3.11 python3; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"; return 0
        fi
    done
    echo "Python 3.11 or newer is required (set PYTHON=/path/to/python3.11)." >&2
    return 1
}

apt_updated=0
apt_install() {
    if [ "$apt_updated" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

ensure_venv() {  # $1: requirements file
    local py stamp want
    if [ ! -x .venv/bin/python ]; then
        py="$(python_311)"
        echo "==> Creating .venv with $("$py" --version)"
        if ! "$py" -m venv .venv 2>/dev/null; then
            # Debian's python3 lacks ensurepip until python3-venv is installed.
            rm -rf .venv
            apt_install python3-venv
            "$py" -m venv .venv
        fi
    fi
    stamp=.venv/.installed-requirements
    want="$(cat requirements*.txt | sha256sum | cut -d' ' -f1) $1"
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "==> Installing $1"
        .venv/bin/python -m pip install -q --disable-pip-version-check -r "$1"
        echo "$want" >"$stamp"
    fi
}

ensure_venv requirements-test.txt

if [ ! -x "$CHROMIUM" ]; then
    echo "==> Installing Debian's chromium for the browser tests"
    # Fonts are only a Recommends of chromium; without one, pages render as boxes.
    apt_install chromium fonts-liberation
fi
# The browser tests launch $CHROMIUM directly; Playwright must never fetch a browser of its own.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

echo "==> ruff check ."
.venv/bin/python -m ruff check .

echo "==> pytest"
status=0
.venv/bin/python -m pytest -q "$@" || status=$?
if [ "$status" -eq 5 ]; then
    echo "pytest collected no tests: failing, since a test run that runs nothing proves nothing." >&2
    exit 1
fi
exit "$status"
