#!/usr/bin/env bash
# Build compose-validate (deploy/tools/compose-validate: the Compose Specification's reference
# loader, github.com/compose-spec/compose-go/v2, pinned by go.mod/go.sum) into a cache outside the
# repository:
#
#   ${BGW_TOOLS_CACHE:-$HOME/.cache/bgw-tools}/compose-validate-<compose-go version>/compose-validate
#
# The binary is reused while the sources are unchanged (their SHA-256 is stored next to it).
# Needs only Go and a Go module proxy (GOPROXY; nothing is fetched from github.com directly).
# Concurrent runs wait for each other. Progress goes to stderr; stdout is the binary's path.
#
#   scripts/build-compose-validator.sh            # build if needed, print the path
#   scripts/build-compose-validator.sh --force    # rebuild even if the cached binary matches
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC="$ROOT/deploy/tools/compose-validate"
VERSION=$(awk '$1 == "github.com/compose-spec/compose-go/v2" { print $2; exit }' "$SRC/go.mod")
CACHE="${BGW_TOOLS_CACHE:-$HOME/.cache/bgw-tools}"
DIR="$CACHE/compose-validate-${VERSION#v}"
BIN="$DIR/compose-validate"
STAMP="$BIN.sources-sha256"

force=false
case "${1:-}" in
  --force) force=true ;;
  "") ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

say() { echo "build-compose-validator: $*" >&2; }

want=$(cd "$SRC" && cat go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1)
fresh() { [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; }

if ! $force && fresh; then
  echo "$BIN"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  say "Go is not on PATH: install Go >= 1.24 (https://go.dev/dl/) and retry"
  exit 1
fi

mkdir -p "$DIR"
exec 9>"$DIR/.lock"
flock 9
if ! $force && fresh; then
  echo "$BIN"
  exit 0
fi

started=$SECONDS
say "building compose-validate (compose-go $VERSION) with $(go version | cut -d' ' -f3) (GOPROXY=$(go env GOPROXY))"
# -mod=readonly: go.sum is the pin; a dependency that does not match it fails the build.
(cd "$SRC" && go build -mod=readonly -trimpath -buildvcs=false -o "$BIN.new" .) >&2
mv -f "$BIN.new" "$BIN"
echo "$want" >"$STAMP"
say "built $BIN in $((SECONDS - started)) s"
echo "$BIN"
