#!/usr/bin/env bash
# librdkafka's own test suite (tests/ in its source) against coordd + 3 brokerd on loopback.
#   deploy/librdkafka-suite.sh [TEST_NUMBER...]        e.g. deploy/librdkafka-suite.sh 0001 0081
# Builds release coordd/brokerd, fetches librdkafka at the pinned commit into .build/librdkafka
# (or uses LIBRDKAFKA_SRC), builds its test-runner, and runs every broker test alone
# (deploy/librdkafka/suite.py). TEST_KAFKA_VERSION (default 3.9.0) is the Kafka version claimed.
# Results: .build/librdkafka-report/report.md, one log per test beside it. Takes about an hour.
set -euo pipefail
cd "$(dirname "$0")/.."
commit=4c3b017c3de8d9c10de12b9eec0ea688e8d5787d
bash deploy/install-deps.sh >/dev/null
# librdkafka's build: a C compiler and the compression libraries its tests exercise.
extra=()
command -v gcc >/dev/null 2>&1 || extra+=(build-essential)
[ -f /usr/include/zstd.h ] || extra+=(libzstd-dev)
[ -f /usr/include/lz4.h ] || extra+=(liblz4-dev)
[ ${#extra[@]} -eq 0 ] || apt-get install -y -qq --no-install-recommends "${extra[@]}" >/dev/null
swift build -c release --product coordd >/dev/null
swift build -c release --product brokerd >/dev/null
swift build -c release --product kafkactl >/dev/null
bin=$(swift build -c release --show-bin-path)
src=${LIBRDKAFKA_SRC:-.build/librdkafka}
if [ ! -x "$src/tests/test-runner" ]; then
    if [ ! -d "$src/.git" ] && [ -z "${LIBRDKAFKA_SRC:-}" ]; then
        git clone -q https://github.com/confluentinc/librdkafka "$src"
        git -C "$src" checkout -q "$commit"
    fi
    (cd "$src" && ./configure --disable-gssapi --disable-curl >/dev/null && make -j"$(nproc)" libs >/dev/null && make -C tests -j"$(nproc)" build >/dev/null)
fi
mkdir -p .build/librdkafka-report
python3 deploy/librdkafka/suite.py "$bin" "$src/tests" .build/librdkafka-report/report.md "$@"
