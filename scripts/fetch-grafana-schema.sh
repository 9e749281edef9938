#!/usr/bin/env bash
# Generate the Grafana dashboard JSON schemas the tests validate deploy/grafana/dashboards/ against,
# into the tools cache (never into the repository).
#
#   scripts/fetch-grafana-schema.sh        # prints GRAFANA_SCHEMA_DIR=<path>
#
# Where the schema comes from: grafana-foundation-sdk keeps its JSON schemas
# (jsonschema/dashboard.jsonschema.json) in its source repository only; neither its PyPI wheel and
# sdist nor its npm package ship them. The npm package does ship the SDK's TypeScript types, which
# the same generator run (the same build stamp, 1769699379, as the PyPI pin in pyproject.toml,
# Grafana 11.6) emits from the same schema definitions. ts-json-schema-generator turns those
# types into draft-07 JSON schemas: one file per SDK module, every exported type under
# "definitions" (interfaces closed with additionalProperties: false). Exact versions, and every
# transitive package, are pinned by deploy/grafana/schema/package-lock.json.
#
# Idempotent: a cached result for the same lock file and module list is reused (no network).
# Needs node and npm, and the npm registry, for the first run. Safe to run concurrently (flock).
# Environment: BGW_TOOLS_CACHE (default ~/.cache/bgw-tools).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
pins="$root/deploy/grafana/schema"
cache="${BGW_TOOLS_CACHE:-${HOME:?HOME or BGW_TOOLS_CACHE must be set}/.cache/bgw-tools}"
# The dashboard itself, the Prometheus query, and every panel type the dashboards use.
modules=(dashboard prometheus timeseries stat gauge bargauge table)

key="$(cat "$pins/package-lock.json" <(printf '%s\n' "${modules[@]}") | sha256sum | cut -c1-12)"
dest="$cache/grafana-schema-$key"

report() {
    echo "GRAFANA_SCHEMA_DIR=$dest"
}

if [[ -f "$dest/.complete" ]]; then
    report
    exit 0
fi

for tool in node npm; do
    command -v "$tool" >/dev/null \
        || { echo "fetch-grafana-schema: $tool is required for the first run" >&2; exit 1; }
done
mkdir -p "$cache"
exec 9>"$cache/.grafana-schema-$key.lock"
flock 9
if [[ -f "$dest/.complete" ]]; then  # another process finished while we waited for the lock
    report
    exit 0
fi

staging="$(mktemp -d "$cache/.grafana-schema-$key.XXXXXX")"
trap 'rm -rf "$staging"' EXIT
cp "$pins/package.json" "$pins/package-lock.json" "$staging/"
echo "fetch-grafana-schema: installing the pinned packages (npm ci)" >&2
npm ci --prefix "$staging" --ignore-scripts --no-audit --no-fund --loglevel=error >&2

sdk="$staging/node_modules/@grafana/grafana-foundation-sdk/dist"
mkdir -p "$staging/schemas"
for module in "${modules[@]}"; do
    "$staging/node_modules/.bin/ts-json-schema-generator" \
        --path "$sdk/$module/types.gen.d.ts" --type '*' \
        --functions hide --no-type-check \
        --out "$staging/schemas/$module.schema.json"
done
sdk_version="$(node -p "require('$staging/node_modules/@grafana/grafana-foundation-sdk/package.json').version")"
printf '@grafana/grafana-foundation-sdk %s\n' "$sdk_version" >"$staging/schemas/SOURCE"

rm -rf "$dest"
mv "$staging/schemas" "$dest"
touch "$dest/.complete"
report
