#!/usr/bin/env bash
# Coverage-guided fuzzing of every decoder an untrusted peer reaches (Sources/FuzzTargets) with
# libFuzzer, in an instrumented release build of its own (.build/fuzz, address sanitizer on).
#   deploy/fuzz.sh [SECONDS_PER_TARGET=300] [TARGET...]     (targets: .build/fuzz/release/Fuzz list)
#   FUZZ_SEED=1 deploy/fuzz.sh ...   first re-seeds the corpora from real client traffic (deploy/fuzz/capture.py)
#   FUZZ_RUNS=10000000 deploy/fuzz.sh 0 [TARGET...]   runs each target for that many inputs instead (no time limit)
# Each target starts from its corpus in Tests/FuzzTests/Corpus/<target>, which `swift test` replays;
# new inputs that add coverage are merged back into it (minimised) at the end. A crash, hang (>10 s),
# leak or allocation over 256 MB stops the run and leaves the input in .build/fuzz-artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-300}
shift || true
bash deploy/install-deps.sh >/dev/null
scratch=.build/fuzz
swift build -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xcc -fsanitize=fuzzer-no-link,address \
    -Xswiftc -use-ld=lld --product Fuzz --scratch-path "$scratch" 2>&1 | grep -v "Cannot export local symbol" | grep -E "error|warning: " || true
fuzz="$scratch/release/Fuzz"
[ -x "$fuzz" ] || { echo "fuzz: build failed" >&2; exit 1; }
if [ "${FUZZ_SEED:-0}" = 1 ]; then
    swift build --product coordd >/dev/null && swift build --product brokerd >/dev/null
    seeds=$(mktemp -d)
    python3 deploy/fuzz/capture.py "$(swift build --show-bin-path)" "$seeds"
    for d in "$seeds"/*; do
        mkdir -p "Tests/FuzzTests/Corpus/$(basename "$d")"
        "$fuzz" "$(basename "$d")" -merge=1 "Tests/FuzzTests/Corpus/$(basename "$d")" "$d" 2>/dev/null
    done
    rm -rf "$seeds"
fi
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <("$fuzz" list 2>&1 | sed -n 's/^  \([a-z-]*\):.*/\1/p')
mkdir -p .build/fuzz-artifacts
status=0
for t in "${targets[@]}"; do
    work=".build/fuzz-corpus/$t"
    mkdir -p "$work" "Tests/FuzzTests/Corpus/$t"
    if [ -n "${FUZZ_RUNS:-}" ]; then limit=(-runs="$FUZZ_RUNS"); echo "== $t: $FUZZ_RUNS inputs"; else limit=(-max_total_time="$seconds"); echo "== $t: $seconds s"; fi
    if ! "$fuzz" "$t" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=256 -max_len=65536 \
            -print_final_stats=1 -artifact_prefix=".build/fuzz-artifacts/$t-" "$work" "Tests/FuzzTests/Corpus/$t" \
            2> ".build/fuzz-artifacts/$t.log"; then
        echo "   FAILED: see .build/fuzz-artifacts/$t.log and the $t-* input there"; status=1
    fi
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|stat::average_exec_per_sec" ".build/fuzz-artifacts/$t.log" | sed 's/^/   /'
    "$fuzz" "$t" -merge=1 "Tests/FuzzTests/Corpus/$t" "$work" 2>/dev/null
    echo "   corpus: $(ls "Tests/FuzzTests/Corpus/$t" | wc -l) inputs"
done
exit $status
