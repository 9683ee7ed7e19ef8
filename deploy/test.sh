#!/usr/bin/env bash
# The test command: installs the real clients the compatibility tests drive, builds, runs every test
# (unit, simulation, integration with real coordd/brokerd processes, compatibility, fault), then —
# when no test filter is given — the guided lab end to end (docs/lab.md; SKIP_LAB=1 skips it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
swift build --build-tests
# Integration tests start the daemons from this build.
export COORDKAFKA_BIN="$(swift build --show-bin-path)"
swift test --skip-build "$@"
if [ $# -eq 0 ] && [ "${SKIP_LAB:-0}" != 1 ]; then
    DEMO_BIN="$COORDKAFKA_BIN" bash deploy/lab/run-check.sh
fi
