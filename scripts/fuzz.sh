#!/usr/bin/env bash
# Runs each cargo-fuzz target of fuzz/ for a set time (default 600 s each) and prints a verdict.
# Only the stable toolchain exists here, so sanitizers are off (--sanitizer none); libFuzzer's
# coverage guidance still works. Usage: scripts/fuzz.sh [seconds-per-target] [target...]
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
seconds=${1:-600}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(callback_parse amount shop)
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    echo "==> $target for ${seconds}s"
    started=$(date +%s)
    log="target/fuzz-$target.log"
    mkdir -p target
    status=0
    cargo fuzz run --sanitizer none "$target" "corpus/$target" -- -max_total_time="$seconds" -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    grep -E "^(Done|stat::number_of_executed_units|==[0-9]+== ERROR|SUMMARY|Test unit written|error)" "$log" || tail -n 20 "$log"
    echo "$target: exit $status after $(( $(date +%s) - started ))s"
    [ "$status" -eq 0 ] || { echo "$target found a crash: see fuzz/artifacts/$target" >&2; exit 1; }
done
echo "no crash"
