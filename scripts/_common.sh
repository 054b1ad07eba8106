# Shared by run.sh and test.sh (sourced, not run): root, Python 3.11 and the project's .venv.
# shellcheck shell=bash

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
