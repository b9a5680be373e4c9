#!/bin/sh
# Installs the real VST3 hosts the tests drive, idempotently (a second run only checks):
# - a virtualenv at $1 (default target/vst3-hosts-venv) with pedalboard 0.9.26 and
#   DawDreamer 0.9.0 from PyPI (cp311 manylinux wheels; python3.11 is needed);
# - Debian's zam-plugins (17 VST3 bundles in /usr/lib/vst3);
# - Debian's ardour (about 59 MB; optional: a failed install is reported, not fatal).
# Prints one line per component; exits non-zero naming what could not be installed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
venv=${1:-$here/../../target/vst3-hosts-venv}
python=${BULKHEAD_PYTHON:-python3}
status=0

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import pedalboard, dawdreamer' 2>/dev/null; then
    echo "venv: ok ($venv)"
else
    "$python" -m venv "$venv" || { echo "venv: $python -m venv failed"; exit 1; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        pedalboard==0.9.26 dawdreamer==0.9.0 numpy \
        && "$venv/bin/python" -c 'import pedalboard, dawdreamer' \
        && echo "venv: installed pedalboard 0.9.26, dawdreamer 0.9.0" \
        || { echo "venv: pip install of pedalboard/dawdreamer failed"; status=1; }
fi

sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo -n"
apt_install() {
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@" >/dev/null 2>&1 \
        || { $sudo apt-get update -q >/dev/null 2>&1 \
             && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "$@" >/dev/null 2>&1; }
}

if [ -d /usr/lib/vst3/ZamComp.vst3 ]; then
    echo "zam-plugins: ok"
elif apt_install zam-plugins; then
    echo "zam-plugins: installed"
else
    echo "zam-plugins: apt-get install zam-plugins failed"; status=1
fi

if command -v ardour7-lua >/dev/null 2>&1 || [ -x /usr/lib/ardour7/ardour-vst3-scanner ]; then
    echo "ardour: ok"
elif apt_install ardour; then
    echo "ardour: installed"
else
    echo "ardour: not installed (optional)"
fi
exit $status
