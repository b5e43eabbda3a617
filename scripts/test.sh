#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, unit and integration tests (real nats-server,
# real ZMQ), then the cross-language contract tests (real msgspec/pyzmq in a local venv).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh prometheus openssl etcd-server

echo "== lint and format (biome)"
npx biome ci --error-on-warnings .

echo "== unit and integration tests (node --test)"
# Node 20 runs every .js under a directory argument (harness modules too): pass the test files.
mapfile -t tests < <(find dist/test -name '*.test.js' | sort)
node --test --test-concurrency=1 --test-timeout=180000 "${tests[@]}"

echo "== contract tests (Python msgspec/pyzmq against the TypeScript codec)"
bash contract-tests/run.sh
