#!/usr/bin/env bash
# A rolling restart under load: two demo-shop instances on one PostgreSQL database, restarted
# one after the other with SIGTERM (a graceful stop: new connections refused, callbacks in
# flight answered) every RESTART_EVERY seconds, while the load tool pays the orders through a
# round-robin over both (a refused connection goes to the other instance; an unanswered
# callback is resent, as Click does).
# Verdict: 0 answers that are not JSON, 0 requests sent that got no answer, every stop graceful
# (exit 0 within the shutdown timeout), and from the database: no order paid twice, every
# order Click saw paid confirmed (nothing debited but unpaid).
# Usage: scripts/rolling-restart.sh   Env: ORDERS (5000), RESTART_EVERY seconds (1),
# CONCURRENCY (16), CLICK_TEST_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
orders=${ORDERS:-5000}
every=${RESTART_EVERY:-1}
concurrency=${CONCURRENCY:-16}
url=${CLICK_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
psql "$url" -qc "DROP SCHEMA IF EXISTS click_rolling CASCADE; CREATE SCHEMA click_rolling" 2>/dev/null
store="$url?options=-csearch_path%3Dclick_rolling"
query() { psql "$url" -tAc "SET search_path = click_rolling; $1" | tail -n 1; }
cargo build -q --release -p demo-shop -p click-testkit
work=$(mktemp -d)
pids=(0 0)
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
prefix="rolling$(date +%s)-"
seq -f "${prefix}%.0f:1000" 0 $((orders - 1)) > "$work/orders.txt"

start() { # instance number, address
    local log="$work/instance-$1.log" before
    before=$(grep -c '^serving' "$log" 2>/dev/null || true)
    target/release/demo-shop serve --no-worker --no-metrics --store "$store" --addr "$2" \
        --orders-file "$work/orders.txt" >> "$log" 2>&1 &
    pids[$1]=$!
    for _ in $(seq 1 200); do
        [ "$(grep -c '^serving' "$log" 2>/dev/null || true)" -gt "${before:-0}" ] && return 0
        sleep 0.05
    done
    echo "instance $1 did not start" >&2; exit 1
}
stop() { # instance number: SIGTERM, then its exit status, or 1 (and SIGKILL) if it is still
    # running 5 s after its shutdown timeout (the demo's default, 10 s)
    local pid=${pids[$1]}
    kill -TERM "$pid"
    for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "instance $1 still running 15 s after SIGTERM" >&2
        kill -9 "$pid"
        wait "$pid" 2>/dev/null || true
        return 1
    fi
    wait "$pid"
}
addresses=()
for n in 0 1; do
    start "$n" 127.0.0.1:0
    addresses+=("$(grep -o '127.0.0.1:[0-9]*' "$work/instance-$n.log" | head -n 1)")
done
echo "instances at ${addresses[*]}, restarted in turn every ${every}s with SIGTERM"
target/release/click-testkit load --base-url "http://${addresses[0]}" --base-url "http://${addresses[1]}" \
    --service-id 101 --secret-key demo-secret-key --orders "$orders" --prefix "$prefix" \
    --concurrency "$concurrency" --duration 600 --resend-for 60 > "$work/load.txt" 2>&1 &
load=$!
restarts=0
graceless=0
n=0
while kill -0 "$load" 2>/dev/null; do
    sleep "$every"
    kill -0 "$load" 2>/dev/null || break
    if ! stop "$n"; then graceless=$((graceless + 1)); fi
    start "$n" "${addresses[$n]}"
    restarts=$((restarts + 1))
    n=$((1 - n))
done
wait "$load" || true
cat "$work/load.txt"
stopped=$(cat "$work"/instance-*.log | grep -c "^stopped: every callback in flight was answered" || true)
paid=$(sed -n 's/^pairs: *\([0-9]*\) .*/\1/p' "$work/load.txt")
lost=$(sed -n 's/.*sent, unanswered: \([0-9]*\).*/\1/p' "$work/load.txt")
not_json=$(sed -n 's/.*not JSON: \([0-9]*\).*/\1/p' "$work/load.txt")
refused=$(sed -n 's/^refused: *\([0-9]*\) .*/\1/p' "$work/load.txt")
confirmed=$(query "SELECT COUNT(*) FROM click_transactions WHERE state = 1")
twice=$(query "SELECT COUNT(*) FROM (SELECT merchant_trans_id FROM click_transactions WHERE state = 1 GROUP BY merchant_trans_id HAVING COUNT(*) > 1) AS doubled")
echo "restarts $restarts (graceful stops logged: $stopped, exits not 0: $graceless); connections refused and sent to the other: $refused"
echo "orders $orders: paid as Click saw it $paid, confirmed in the database $confirmed, paid twice $twice; not JSON $not_json, sent but unanswered $lost"
if [ "$restarts" -lt 2 ]; then
    echo "verdict: FAILED, fewer than 2 restarts landed during the load; raise ORDERS" >&2
    exit 1
fi
if [ "$not_json" = "0" ] && [ "$lost" = "0" ] && [ "$graceless" = "0" ] && [ "$stopped" -ge "$restarts" ] \
    && [ "$twice" = "0" ] && [ "$paid" = "$orders" ] && [ "$confirmed" = "$orders" ] \
    && grep -q "non-zero answers: none" "$work/load.txt"; then
    echo "verdict: 0 non-JSON answers, 0 answers lost mid-flight, 0 paid twice, 0 debited but unpaid"
else
    echo "verdict: FAILED" >&2
    exit 1
fi
