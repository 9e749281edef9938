#!/usr/bin/env bash
# Build BGW's minimal OpenTelemetry Collector from deploy/otelcol/builder-config.yaml with the
# OpenTelemetry Collector Builder (OCB), into a cache outside the repository:
#
#   ${BGW_TOOLS_CACHE:-$HOME/.cache/bgw-tools}/otelcol-0.155.0/otelcol-bgw
#
# The binary is reused while the manifest is unchanged (its SHA-256 is stored next to it), so a
# changed manifest rebuilds. Needs only Go and a Go module proxy (the default proxy.golang.org,
# or whatever GOPROXY says); nothing is fetched from github.com directly. Concurrent runs wait for
# each other. Progress goes to stderr; stdout is the binary's path and nothing else.
#
#   scripts/build-otelcol.sh            # build if needed, print the path
#   scripts/build-otelcol.sh --force    # rebuild even if the cached binary matches
set -euo pipefail

VERSION=0.155.0
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MANIFEST="$ROOT/deploy/otelcol/builder-config.yaml"
CACHE="${BGW_TOOLS_CACHE:-$HOME/.cache/bgw-tools}"
DIR="$CACHE/otelcol-$VERSION"
BIN="$DIR/otelcol-bgw"
STAMP="$BIN.manifest-sha256"
OCB_DIR="$CACHE/ocb-$VERSION"
OCB="$OCB_DIR/builder"

force=false
case "${1:-}" in
  --force) force=true ;;
  "") ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

say() { echo "build-otelcol: $*" >&2; }

want=$(sha256sum "$MANIFEST" | cut -d' ' -f1)
fresh() { [[ -x "$BIN" && -f "$STAMP" && "$(cat "$STAMP")" == "$want" ]]; }

if ! $force && fresh; then
  echo "$BIN"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  say "Go is not on PATH: install Go >= 1.25 (https://go.dev/dl/) and retry"
  exit 1
fi

mkdir -p "$DIR" "$OCB_DIR"
# One build at a time (two test sessions may ask at once); the second one finds it done.
exec 9>"$DIR/.lock"
flock 9
if ! $force && fresh; then
  echo "$BIN"
  exit 0
fi

# The generated module must not pick up VCS stamping from whatever checkout holds the cache.
export GOFLAGS="-buildvcs=false${GOFLAGS:+ $GOFLAGS}"
started=$SECONDS
if [[ ! -x "$OCB" ]]; then
  say "installing OCB v$VERSION into $OCB_DIR"
  GOBIN="$OCB_DIR" go install "go.opentelemetry.io/collector/cmd/builder@v$VERSION" >&2
fi

build=$(mktemp -d "$DIR/build.XXXXXX")
trap 'rm -rf "$build"' EXIT
# The manifest's output_path is for people running OCB by hand; build in the cache instead.
sed "s|^\([[:space:]]*output_path:\).*|\1 $build/dist|" "$MANIFEST" >"$build/builder-config.yaml"
say "building otelcol-bgw $VERSION with $(go version | cut -d' ' -f3) (GOPROXY=$(go env GOPROXY))"
"$OCB" --config "$build/builder-config.yaml" >&2

"$build/dist/otelcol-bgw" --version >&2
mv -f "$build/dist/otelcol-bgw" "$BIN.new"
mv -f "$BIN.new" "$BIN"
echo "$want" >"$STAMP"
say "built $BIN in $((SECONDS - started)) s"
echo "$BIN"
