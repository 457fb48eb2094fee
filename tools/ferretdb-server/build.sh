#!/usr/bin/env bash
# Builds the FerretDB wrapper into $1, against a copy of FerretDB v1.24.2 in $2 with the patches
# of patches/ applied in name order (the Go module cache is left untouched). The patches make lookups
# by `_id` use the `_id` index of the SQLite backend, concurrent writers queue in FerretDB rather
# than sleep in SQLite's busy handler, updates of one collection go one at a time from their read to
# their write (so none drops another's change), and commands stop paying for debug-only leak tracking
# and SQL logging; each file says why.
set -euo pipefail
out=$1
mkdir -p "$2"
work=$(cd "$2" && pwd)
cd "$(dirname "$0")"
here=$PWD

go mod download github.com/FerretDB/FerretDB
src=$(go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)
rm -rf "$work/FerretDB"
cp -R "$src" "$work/FerretDB"
chmod -R u+w "$work/FerretDB"
for p in "$here"/patches/*.patch; do
  # The ceiling keeps git from finding the enclosing clone, so `git apply` patches plain files.
  (cd "$work/FerretDB" && GIT_CEILING_DIRECTORIES="$work" git apply "$p") \
    || { echo "ferretdb-server: $(basename "$p") does not apply to $src" >&2; exit 1; }
done

# The wrapper's own go.mod and go.sum, with FerretDB replaced by the patched copy.
cp go.mod go.sum "$work/"
go mod edit -modfile="$work/go.mod" -replace "github.com/FerretDB/FerretDB=$work/FerretDB"
CGO_ENABLED=0 go build -trimpath -modfile="$work/go.mod" -o "$out" .
