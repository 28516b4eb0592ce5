#!/usr/bin/env bash
# kill -9 settlement workers in the middle of their work and restart them, while Click (the
# testkit's mock of the Merchant API, with faults injected: hangs and dropped connections after acting, 500s, 502s,
# garbled answers) pays orders at the demo shop. Verdict from Click's side and the store's, by
# `demo-shop settle-soak`: every reversal due reversed exactly once, every delivered payment
# fiscalized exactly once, every stuck attempt expired, nothing reversed that Click did not pay.
# The kills must land mid-run: a run in which no kill happened before the soak ended fails.
# Usage: scripts/settle-kill.sh sqlite|postgres   Env: PAYMENTS (2000), WORKERS (2),
# KILL_EVERY seconds (0.7), CLICK_TEST_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
database=${1:-sqlite}
payments=${PAYMENTS:-2000}
workers=${WORKERS:-2}
kill_every=${KILL_EVERY:-0.7}
cargo build -q -p demo-shop
work=$(mktemp -d)
pids=()
soak=""
trap 'kill -9 "${pids[@]}" "$soak" 2>/dev/null || true; rm -rf "$work"' EXIT
case "$database" in
    sqlite) store="sqlite:$work/settle.sqlite3" ;;
    postgres)
        url=${CLICK_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
        psql "$url" -qc "DROP SCHEMA IF EXISTS click_settle_kill CASCADE; CREATE SCHEMA click_settle_kill" 2>/dev/null
        store="$url?options=-csearch_path%3Dclick_settle_kill" ;;
    *) echo "sqlite or postgres" >&2; exit 2 ;;
esac
port=$((20000 + RANDOM % 20000))
common=(--store "$store" --expire-after 3 --lease 10)
demo=target/debug/demo-shop

target/debug/demo-shop "${common[@]}" settle-soak --mock-addr "127.0.0.1:$port" \
    --payments "$payments" --timeout 600 > "$work/soak.log" 2>&1 &
soak=$!
for _ in $(seq 1 100); do grep -q "^mock Merchant API" "$work/soak.log" && break; sleep 0.1; done
worker() { # slot
    "$demo" "${common[@]}" --merchant-api "http://127.0.0.1:$port/" worker >> "$work/worker-$1.log" 2>&1 &
    pids[$1]=$!
}
for n in $(seq 0 $((workers - 1))); do worker "$n"; done
kills=0
while kill -0 "$soak" 2>/dev/null; do
    sleep "$kill_every"
    kill -0 "$soak" 2>/dev/null || break
    victim=$((kills % workers))
    kill -9 "${pids[$victim]}" 2>/dev/null || true
    wait "${pids[$victim]}" 2>/dev/null || true
    echo "killed worker $victim" >> "$work/kills.log"
    kills=$((kills + 1))
    worker "$victim"
done
status=0
wait "$soak" || status=$?
grep -E "^(settled|confirm to receipt|FAIL|verdict|[0-9]+ Click payments)" "$work/soak.log"
echo "workers killed with -9 and restarted: $kills"
[ "$kills" -gt 0 ] || { echo "no kill landed before the soak ended" >&2; exit 1; }
exit "$status"
