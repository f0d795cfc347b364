# Shared by the scripts in infra/local: where things live and how to put the toolchain on PATH.
# Sourced, never run.

BEACON_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=versions.env
. "$BEACON_ROOT/infra/local/versions.env"

# Per-version downloads and builds, shared by every clone on this machine.
BEACON_CACHE=${BEACON_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/beacon}
# Per-clone binaries (links into the cache), data and logs; git-ignored.
BEACON_INFRA_DIR=${BEACON_INFRA_DIR:-$BEACON_ROOT/.infra}
BEACON_BIN="$BEACON_INFRA_DIR/bin"

log() { printf '\033[1m[beacon]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[beacon] %s\033[0m\n' "$*" >&2; exit 1; }

node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

# Puts Node >= 22 and the pinned pnpm first on PATH, from .infra/bin when installed there.
use_toolchain() {
  export PATH="$BEACON_BIN:$PATH"
  export BEACON_CACHE BEACON_INFRA_DIR
  # pnpm refuses to run scripts under a Node older than `engines`; say so plainly.
  if [ "$(node_major)" -lt 22 ]; then
    die "Node.js >= 22 is needed and $(command -v node || echo 'none') is $(node --version 2>/dev/null). Run: make install"
  fi
}
