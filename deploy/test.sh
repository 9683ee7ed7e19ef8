#!/usr/bin/env bash
# The test command: installs the real clients the compatibility tests drive, builds, runs every test
# (unit, simulation, integration with real coordd/brokerd processes, compatibility, fault).
set -euo pipefail
cd "$(dirname "$0")/.."
bash deploy/install-deps.sh
swift build --build-tests
# Integration tests start the daemons from this build.
export COORDKAFKA_BIN="$(swift build --show-bin-path)"
exec swift test --skip-build "$@"
