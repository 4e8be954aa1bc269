#!/usr/bin/env bash
# Shared helpers for ops/ scripts. Source it: `. "$(dirname "$0")/lib.sh"`.
# Works on a fresh Debian 12 machine, as root or with sudo; every step is idempotent.

set -euo pipefail

# The repository root (the parent of ops/).
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT

# Debian packages the build needs: the three C libraries Renkei links (with their headers),
# pkg-config to find them, and curl for `ops/demo` and operators' `curl --unix-socket`.
RENKEI_APT_PACKAGES=(libsqlite3-dev libcurl4-openssl-dev libssl-dev pkg-config curl)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root to run '$*' (run as root or install sudo)"
    fi
}

# Installs whatever of RENKEI_APT_PACKAGES is missing, then checks pkg-config and swift.
ensure_packages() {
    local missing=() pkg
    for pkg in "${RENKEI_APT_PACKAGES[@]}"; do
        if ! dpkg -s "$pkg" >/dev/null 2>&1; then missing+=("$pkg"); fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        log "installing ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    check_pkg_config
    ensure_swift
}

# Package.swift's system libraries find their headers through pkg-config; say which one is missing.
check_pkg_config() {
    command -v pkg-config >/dev/null 2>&1 || die "pkg-config is not installed (apt-get install pkg-config)"
    local missing=() module
    for module in sqlite3 libcurl libcrypto libssl; do
        if ! pkg-config --exists "$module"; then missing+=("$module"); fi
    done
    if [ "${#missing[@]}" -gt 0 ]; then
        die "pkg-config cannot find: ${missing[*]} (packages: sqlite3=libsqlite3-dev, libcurl=libcurl4-openssl-dev, libcrypto and libssl=libssl-dev)"
    fi
}

# Puts a Swift 6 toolchain on PATH (also looks in /opt/swift/usr/bin).
ensure_swift() {
    if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
        export PATH="/opt/swift/usr/bin:$PATH"
    fi
    command -v swift >/dev/null 2>&1 \
        || die "swift is not on PATH and not in /opt/swift/usr/bin: install a Swift 6 toolchain for Debian 12 from swift.org and put its usr/bin on PATH"
}

# The Schemathesis API fuzzer (issue 13), pinned, in its own venv under .build (Debian's python3 and
# python3-venv; only PyPI is reached). The status-socket fuzz test finds it there or in RENKEI_SCHEMATHESIS.
SCHEMATHESIS_VERSION=4.32.5
SCHEMATHESIS_VENV="$REPO_ROOT/.build/schemathesis"

# Installs schemathesis==$SCHEMATHESIS_VERSION into $SCHEMATHESIS_VENV unless that version is there,
# and exports RENKEI_SCHEMATHESIS (its executable).
ensure_schemathesis() {
    local exe="$SCHEMATHESIS_VENV/bin/schemathesis"
    if ! "$exe" --version 2>/dev/null | grep -qF "version $SCHEMATHESIS_VERSION"; then
        log "installing schemathesis $SCHEMATHESIS_VERSION into ${SCHEMATHESIS_VENV#"$REPO_ROOT"/}"
        rm -rf "$SCHEMATHESIS_VENV"
        /usr/bin/python3 -m venv "$SCHEMATHESIS_VENV" \
            || die "python3 -m venv failed (apt-get install python3-venv)"
        "$SCHEMATHESIS_VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" \
            || die "pip could not install schemathesis==$SCHEMATHESIS_VERSION from PyPI"
    fi
    export RENKEI_SCHEMATHESIS="$exe"
}

# Prints a free TCP port on 127.0.0.1 (bind to port 0, read what the kernel chose).
free_port() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    local port
    for _ in $(seq 1 50); do
        port=$(( (RANDOM % 20000) + 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    die "could not find a free port on 127.0.0.1"
}
