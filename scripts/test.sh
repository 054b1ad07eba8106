#!/usr/bin/env bash
# Install everything the tests need and run every test:  bash scripts/test.sh [pytest args]
# Creates .venv if missing, installs requirements-test.txt, installs Debian's chromium for the
# browser tests if /usr/lib/chromium/chromium is missing (as root, or with sudo), then runs
# `ruff check .` and `python -m pytest -q` (browser tests included). Exits non-zero on any failure,
# and also when pytest collected no test at all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CHROMIUM=/usr/lib/chromium/chromium

source scripts/_common.sh

ensure_venv requirements-test.txt

if [ ! -x "$CHROMIUM" ]; then
    echo "==> Installing Debian's chromium for the browser tests"
    # Fonts are only a Recommends of chromium; without one, pages render as boxes.
    apt_install chromium fonts-liberation
fi
# Storage tests run against a real PostgreSQL server that the suite starts itself (tests/support_db.py);
# the PDF pack is read back with poppler's pdftotext.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    echo "==> Installing Debian's postgresql for the storage tests"
    apt_install postgresql
fi
if ! command -v pdftotext >/dev/null 2>&1; then
    echo "==> Installing Debian's poppler-utils for the PDF tests"
    apt_install poppler-utils
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
