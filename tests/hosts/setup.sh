#!/bin/sh
# Installs the real VST3 hosts the tests drive, idempotently (a second run only checks):
# - Debian's python3-venv when `python3 -m venv` cannot create a virtualenv;
# - a virtualenv at $1 (default target/vst3-hosts-venv) with pedalboard 0.9.26 and
#   DawDreamer 0.9.0 from PyPI (cp311 manylinux wheels: python3 must be 3.11);
# - Debian's zam-plugins (17 VST3 bundles in /usr/lib/vst3);
# - Debian's ardour (about 59 MB): a failed install is reported on its line, not fatal here
#   (tests/tests/vst3_ardour.rs then fails, quoting that line).
# apt-get runs as root, or through passwordless sudo. Prints one line per component; on
# failure the last line says what could not be installed and why, and the status is 1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
venv=${1:-$here/../../target/vst3-hosts-venv}
python=${BULKHEAD_PYTHON:-python3}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

fail() {
    tail -n 5 "$log" | sed 's/^/  | /'
    echo "setup.sh: cannot install the real VST3 hosts: $1"
    exit 1
}

sudo=""
if [ "$(id -u)" != 0 ]; then
    sudo -n true 2>/dev/null || fail "apt-get needs root or passwordless sudo"
    sudo="sudo -n"
fi
updated=""
apt_install() {
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@" >>"$log" 2>&1 && return 0
    # The package lists may be missing or stale (a fresh container has none): update once.
    [ -n "$updated" ] && return 1
    updated=1
    $sudo apt-get update -q >>"$log" 2>&1 \
        && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@" >>"$log" 2>&1
}

if [ -d /usr/lib/vst3/ZamComp.vst3 ]; then
    echo "zam-plugins: ok"
elif apt_install zam-plugins; then
    echo "zam-plugins: installed"
else
    fail "apt-get install zam-plugins failed (no network or no Debian package source?)"
fi

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pedalboard, dawdreamer' 2>/dev/null; then
    echo "venv: ok ($venv)"
else
    command -v "$python" >/dev/null || apt_install python3 || fail "no $python, and apt-get install python3 failed"
    "$python" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' >>"$log" 2>&1 \
        || fail "$python is not Python 3.11 (pedalboard 0.9.26 and dawdreamer 0.9.0 are pinned as cp311 wheels; set BULKHEAD_PYTHON)"
    rm -rf "$venv"
    if ! "$python" -m venv "$venv" >>"$log" 2>&1; then
        rm -rf "$venv"
        apt_install python3-venv || fail "$python -m venv failed and apt-get install python3-venv failed"
        "$python" -m venv "$venv" >>"$log" 2>&1 || fail "$python -m venv failed"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary=:all: \
        pedalboard==0.9.26 dawdreamer==0.9.0 numpy >>"$log" 2>&1 \
        || fail "pip install pedalboard==0.9.26 dawdreamer==0.9.0 numpy failed (no network access to PyPI?)"
    "$venv/bin/python" -c 'import pedalboard, dawdreamer' >>"$log" 2>&1 \
        || fail "pedalboard or dawdreamer does not import in $venv"
    echo "venv: installed pedalboard 0.9.26, dawdreamer 0.9.0 ($venv)"
fi

if [ -x /usr/lib/ardour7/ardour-vst3-scanner ] && command -v ardour7-lua >/dev/null 2>&1; then
    echo "ardour: ok"
elif apt_install ardour; then
    echo "ardour: installed"
else
    tail -n 5 "$log" | sed 's/^/  | /'
    echo "ardour: not installed: apt-get install ardour failed (no network or no Debian package source?)"
fi
exit 0
