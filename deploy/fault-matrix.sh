#!/usr/bin/env bash
# The fault matrix (docs/reliability.md): every row with real coordd/brokerd processes, each row
# repeated FAULT_MATRIX_RUNS times (default here 5) with the anchors' durations (e.g. coordd down
# 20 s; override with FAULT_MATRIX_COORD_DOWN_S). Each run prints a `fault-matrix:` line with its
# measurements. The normal test command (deploy/test.sh) runs every row once, shorter.
# Row 17 (disk full) mounts tmpfs file systems and needs root; FAULT_MATRIX_DISK_FULL_S sets how
# long the broker's disk stays full (default 10 s here, 1.5 s in the quick run).
#   deploy/fault-matrix.sh            # full matrix, 5 runs per row
#   FAULT_MATRIX_RUNS=1 deploy/fault-matrix.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export FAULT_MATRIX_RUNS="${FAULT_MATRIX_RUNS:-5}"
swift build --build-tests
export COORDKAFKA_BIN="$(swift build --show-bin-path)"
swift test --skip-build --filter 'IntegrationTests\..*MatrixTests|CASRegisterCheckerTests|FaultProxyTests' "$@" 2>&1 | tee "${FAULT_MATRIX_LOG:-/tmp/fault-matrix.log}"
echo "measurements:"
grep '^fault-matrix:' "${FAULT_MATRIX_LOG:-/tmp/fault-matrix.log}" || true
