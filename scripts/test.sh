#!/usr/bin/env bash
# The one test command (`npm run test:all`): dependencies, lint, typecheck, then vitest against a real
# PostgreSQL 15 + pgvector and a real Redis (see scripts/test-services.sh). Extra arguments go to
# vitest: `bash scripts/test.sh test/services.test.ts`. Exits with the first failing step's code.
#
# SKIP_STATIC=1 skips lint and typecheck (useful while other work in the tree is half-edited).
# DATABASE_URL + REDIS_URL both set: those servers are used and nothing is installed or started.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() { printf '\n==> %s\n' "$*" >&2; }

# node_modules is stale when the lockfile and npm's record of what it installed
# (node_modules/.package-lock.json) disagree on any package's version.
deps_fresh() {
  [[ -f node_modules/.package-lock.json ]] || return 1
  node -e '
    const want = require("./package-lock.json").packages ?? {};
    const have = require("./node_modules/.package-lock.json").packages ?? {};
    for (const [name, pkg] of Object.entries(want)) {
      if (name === "") continue;
      const got = have[name];
      // Optional packages for other platforms (e.g. @esbuild/darwin-arm64) are never installed.
      if (!got ? !pkg.optional : got.version !== pkg.version) process.exit(1);
    }
    for (const name of Object.keys(have)) if (!(name in want)) process.exit(1);
  ' 2>/dev/null
}

section "dependencies"
if deps_fresh; then
  echo "node_modules matches package-lock.json" >&2
else
  npm ci --no-audit --no-fund
fi

if [[ ${SKIP_STATIC:-0} == 1 ]]; then
  section "lint and typecheck skipped (SKIP_STATIC=1)"
else
  section "lint (biome)"
  npx biome lint .
  section "typecheck (tsc --noEmit)"
  npx tsc --noEmit -p .
fi

section "chromium (console test)"
bash scripts/install-chromium.sh

section "tests (vitest) against PostgreSQL + pgvector and Redis"
results=.test-results.json
rm -f "$results"
status=0
bash scripts/test-services.sh npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# One plain closing line ("N passed, N failed") that any CI reader understands.
if [[ -f $results ]]; then
  node -e '
    const r = require(process.argv[1]);
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed`);
  ' "$(pwd)/$results"
fi
exit "$status"
