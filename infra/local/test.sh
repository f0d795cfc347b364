#!/usr/bin/env bash
# The whole check, as CI runs it: installs what is missing, then lint, format, types,
# contracts, generated code, the launcher's Go, and the unit and integration suites against
# real NATS, Mongo-wire and Temporal servers that the suite starts and stops itself.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$BEACON_ROOT"

bash infra/local/install.sh
use_toolchain

# Servers of a test run that died are stopped even if this script is interrupted.
trap 'pnpm -s infra down-test >/dev/null 2>&1 || true' EXIT

step() { # step LABEL CMD...
  local label=$1 start=$SECONDS; shift
  log "$label"
  "$@"
  log "$label: ok ($((SECONDS - start)) s)"
}

step "lint (eslint)" pnpm -s lint
step "format (prettier)" pnpm -s format:check
step "types (tsc --build)" pnpm -s typecheck
step "contracts (buf lint, buf breaking)" pnpm -s proto:lint
step "generated code matches proto/" pnpm -s proto:check
step "FerretDB launcher (gofmt, go vet, go test)" bash -c \
  'cd infra/ferretdb && test -z "$(gofmt -l .)" || { gofmt -l .; exit 1; }; export CGO_ENABLED=0 GOFLAGS=-mod=readonly; go vet -trimpath -tags ferretdb_no_postgresql ./... && go test -trimpath -tags ferretdb_no_postgresql ./...'

results="$BEACON_INFRA_DIR/test-results.json"
status=0
start=$SECONDS
log "unit and integration suites (vitest)"
pnpm exec vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
node scripts/test-summary.mjs "$results" || status=1
log "suites took $((SECONDS - start)) s"
exit "$status"
