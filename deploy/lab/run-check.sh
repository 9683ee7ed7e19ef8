#!/usr/bin/env bash
# Runs the guided lab (docs/lab.md) end to end: the demo on binaries already built (DEMO_BIN, default
# the debug build), kept running, then `deploy/lab.sh check`; stops everything at the end.
# LAB_SHOTS=1 refreshes the lab's screenshots in docs/. Used by deploy/test.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
export DEMO_BIN=${DEMO_BIN:-$(swift build --show-bin-path)}
export DEMO_DIR=${DEMO_DIR:-/tmp/coordkafka-lab-$$}
log=$DEMO_DIR.log
rm -rf "$DEMO_DIR"
DEMO_KEEP=1 setsid bash deploy/demo.sh > "$log" 2>&1 &
demo=$!
stop() {
    kill -TERM -- "-$demo" 2>/dev/null || true
    wait "$demo" 2>/dev/null || true
    rm -rf "$DEMO_DIR" "$log"
}
trap stop EXIT
for _ in $(seq 1 600); do
    grep -q "DEMO_KEEP=1: cluster" "$log" 2>/dev/null && break
    kill -0 "$demo" 2>/dev/null || { echo "lab: the demo failed:"; tail -40 "$log"; exit 1; }
    sleep 0.5
done
grep -q "DEMO_KEEP=1: cluster" "$log" || { echo "lab: the demo did not come up in 300 s:"; tail -40 "$log"; exit 1; }
echo "lab: demo up ($(grep -c . "$log") lines of output); running the experiments"
timeout 900 bash deploy/lab.sh check
