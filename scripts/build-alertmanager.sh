#!/usr/bin/env bash
# Build Alertmanager and amtool at the version of the compose image (prom/alertmanager) into the
# tools cache, so tests check deploy/alertmanager.yml with the same code that runs it. Debian ships
# 0.25, which lacks telegram_configs.bot_token_file (0.26+).
#
#   scripts/build-alertmanager.sh            # prints AMTOOL=<path> and ALERTMANAGER=<path>
#
# Idempotent: a cached build of the right version is reused (no network, well under a second).
# Needs Go and its module proxy for the first build. Safe to run concurrently (flock).
# Environment: BGW_TOOLS_CACHE (default ~/.cache/bgw-tools), ALERTMANAGER_VERSION (default below).
set -euo pipefail

version="${ALERTMANAGER_VERSION:-0.28.1}"
cache="${BGW_TOOLS_CACHE:-${HOME:?HOME or BGW_TOOLS_CACHE must be set}/.cache/bgw-tools}"
dest="$cache/alertmanager-$version"
module="github.com/prometheus/alertmanager"

built() {
    local tool
    for tool in amtool alertmanager; do
        [[ -x "$dest/$tool" ]] || return 1
        # A binary stamped with another version (or a half-written one) is rebuilt.
        "$dest/$tool" --version 2>&1 | grep -q "version $version " || return 1
    done
}

report() {
    echo "AMTOOL=$dest/amtool"
    echo "ALERTMANAGER=$dest/alertmanager"
}

if built; then
    report
    exit 0
fi

command -v go >/dev/null || { echo "build-alertmanager: Go is required for the first build" >&2; exit 1; }
mkdir -p "$cache"
exec 9>"$cache/.alertmanager-$version.lock"
flock 9
if built; then  # another process finished the build while we waited for the lock
    report
    exit 0
fi

staging="$(mktemp -d "$cache/.alertmanager-$version.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
# The same version stamp the release binaries carry, so `--version` tells which build this is.
stamp="github.com/prometheus/common/version"
ldflags="-s -w -X $stamp.Version=$version -X $stamp.Branch=HEAD -X $stamp.BuildUser=bgw-build-script"
echo "build-alertmanager: building $module v$version (amtool, alertmanager) with $(go version)" >&2
CGO_ENABLED=0 GOBIN="$staging" GOFLAGS="${GOFLAGS:-} -buildvcs=false" \
    go install -trimpath -ldflags "$ldflags" \
    "$module/cmd/amtool@v$version" "$module/cmd/alertmanager@v$version"

mkdir -p "$dest"
for tool in amtool alertmanager; do
    mv -f "$staging/$tool" "$dest/$tool"
done
built || { echo "build-alertmanager: the built binaries do not report version $version" >&2; exit 1; }
report
