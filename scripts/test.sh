#!/usr/bin/env bash
# The whole test suite, as CI runs it: the lock check, set-up, lint, unit and integration
# tests (real nats-server, real ZMQ) on this machine's Node and again on Node 24 LTS, then
# the cross-language contract tests (real msgspec/pyzmq in a local venv).
# FPM_TEST_NODE24=0 skips the Node 24 run (it is skipped anyway when `node` is already 24).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== package-lock.json matches package.json"
# What `npm ci` checks, without installing: a lock nobody regenerated fails here, with the fix.
if ! lock_check="$(npm ci --dry-run --ignore-scripts --no-audit --no-fund 2>&1)"; then
  # npm's reason (which package differs), without the usage text it prints after it.
  grep "^npm error" <<<"$lock_check" | sed '/Clean install a project/,$d' >&2 || true
  echo "test: package-lock.json does not match package.json: run 'npm install', then commit package-lock.json" >&2
  exit 1
fi

bash scripts/setup.sh prometheus openssl etcd-server

echo "== lint and format (biome)"
npx biome ci --error-on-warnings .

# Node 20 runs every .js under a directory argument (harness modules too): pass the test files.
mapfile -t tests < <(find dist/test -name '*.test.js' | sort)
node_tests() {
  local node="$1"
  echo "== unit and integration tests (node --test, node $("$node" --version))"
  # The node under test first on PATH: every child process the tests start runs on it too.
  PATH="$(dirname "$node"):$PATH" "$node" --test --test-concurrency=1 --test-timeout=180000 "${tests[@]}"
}
node_tests "$(command -v node)"
if [ "${FPM_TEST_NODE24:-1}" != "0" ] && [[ "$(node --version)" != v24.* ]]; then
  node24="$(bash scripts/node24.sh)"
  node_tests "$node24"
fi

echo "== contract tests (Python msgspec/pyzmq against the TypeScript codec)"
bash contract-tests/run.sh
