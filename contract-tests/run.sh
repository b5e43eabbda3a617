#!/usr/bin/env bash
# The cross-language contract tests (`npm run contract-test`): Python msgspec/pyzmq against the
# TypeScript codec. Needs only python3 (with venv/pip) and node; everything else it installs:
#   - a venv at contract-tests/.venv, with requirements.txt (re-installed only when it changes),
#   - the compiled TypeScript (tsc, when dist/ is missing or older than a source file),
#   - the upstream engines' packages (pip install --no-deps, wheels cached in contract-tests/.cache/).
# Extra arguments go to pytest, e.g. `npm run contract-test -- -k property -x`.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=contract-tests/.venv
STAMP="$VENV/.requirements.sha256"
PY="$VENV/bin/python"

if [ ! -x "$PY" ]; then
  echo "contract-test: creating $VENV" >&2
  if ! python3 -m venv "$VENV"; then
    echo "contract-test: 'python3 -m venv' failed; on Debian/Ubuntu install python3-venv (apt-get install python3-venv)" >&2
    rm -rf "$VENV"
    exit 1
  fi
fi

want="$(sha256sum contract-tests/requirements.txt | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$want" ]; then
  echo "contract-test: installing contract-tests/requirements.txt into $VENV" >&2
  "$PY" -m pip install --disable-pip-version-check -q -r contract-tests/requirements.txt
  echo "$want" > "$STAMP"
fi

# Rebuild when a compiled script is missing or any TypeScript source is newer than the build.
if [ ! -f dist/scripts/contract-codec-server.js ] || [ ! -f dist/src/index.js ] \
  || [ -n "$(find src scripts test bench tsconfig.json -newer dist/scripts/contract-codec-server.js -name '*.ts' -o -newer dist/scripts/contract-codec-server.js -name tsconfig.json 2>/dev/null | head -1)" ]; then
  echo "contract-test: compiling TypeScript" >&2
  [ -d node_modules/typescript ] || npm ci --no-audit --no-fund --loglevel=error
  # tsc emits even when another area has a type error; the tests below judge the result.
  npx tsc -p tsconfig.json || true
  [ -f dist/scripts/contract-codec-server.js ] || { echo "contract-test: tsc produced no dist/scripts/contract-codec-server.js" >&2; exit 1; }
  touch dist/scripts/contract-codec-server.js
fi

set +e
"$PY" -m pytest contract-tests -ra "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "contract-test: pytest collected no tests: that is a failure here" >&2
  exit 1
fi
exit "$status"
