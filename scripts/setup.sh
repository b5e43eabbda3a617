#!/usr/bin/env bash
# Installs what the project needs on a fresh machine, and nothing that is already there:
# npm packages, nats-server (Debian package), the Debian packages named as arguments
# (scripts/test.sh asks for prometheus, openssl and etcd-server) and the compiled TypeScript.
# The Python venv for the contract tests is made by contract-tests/run.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules/zeromq ] || [ ! -d node_modules/typescript ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages" >&2
  # `npm ci` installs exactly the committed lock and fails when it is out of sync with
  # package.json, so CI cannot pass on a lock nobody committed.
  if [ -f package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    npm install --no-audit --no-fund --loglevel=error
  fi
fi

apt_install() {
  local pkg="$1"
  if [ "$(id -u)" != "0" ] && ! command -v sudo >/dev/null; then
    echo "setup: $pkg is missing and this user cannot install it: run 'apt-get install $pkg' as root" >&2
    return 1
  fi
  local SUDO=""; [ "$(id -u)" != "0" ] && SUDO=sudo
  echo "setup: installing Debian package $pkg" >&2
  if [ ! -f /tmp/.fpm-apt-updated ]; then $SUDO apt-get update -qq >/dev/null && touch /tmp/.fpm-apt-updated; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$pkg" >/dev/null
}

if ! command -v nats-server >/dev/null && [ ! -x /usr/sbin/nats-server ]; then
  apt_install nats-server || { echo "setup: install nats-server (Debian: apt-get install nats-server) and run again" >&2; exit 1; }
fi
for pkg in "$@"; do
  case "$pkg" in
    prometheus) command -v prometheus >/dev/null && command -v promtool >/dev/null || apt_install prometheus ;;
    etcd-server) command -v etcd >/dev/null || apt_install etcd-server ;;
    *) dpkg -s "$pkg" >/dev/null 2>&1 || apt_install "$pkg" ;;
  esac
done

echo "setup: compiling TypeScript" >&2
rm -rf dist  # no stale compiled tests from renamed files
npx tsc -p tsconfig.json
