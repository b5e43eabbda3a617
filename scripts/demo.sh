#!/usr/bin/env bash
# `npm run demo`: works as the first command after a clone. Installs what is missing
# (npm packages, nats-server, the compiled TypeScript), then runs `fpm demo`: nats-server,
# simulated engines, one relay per worker and the planner in closed loop under a load step.
# Extra arguments go to `fpm demo` (for example: npm run demo -- --duration 30 --headless).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! bash scripts/setup.sh; then
  echo "demo: set-up failed (see above). If nats-server is missing: sudo apt-get install nats-server" >&2
  exit 1
fi
exec node bin/fpm.js demo "$@"
