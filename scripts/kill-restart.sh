#!/usr/bin/env bash
# kill -9 a demo-shop instance in the middle of a load run, restart it on the same port, and let
# the load tool resend unanswered callbacks as Click does. Verdict from the database: no order
# confirmed twice, and every payment Click saw confirmed (0, or -4 to a resend) is confirmed in
# the database: never paid twice, never debited-but-unpaid.
# The kills must land mid-run: a run with no resend (each kill fell after the last answer) fails.
# Usage: scripts/kill-restart.sh sqlite|postgres   Env: ORDERS (6000), KILLS (2),
# KILL_AFTER seconds of load before each kill (0.4), CONCURRENCY (16), CLICK_TEST_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
database=${1:-sqlite}
orders=${ORDERS:-6000}
kills=${KILLS:-2}
kill_after=${KILL_AFTER:-0.4}
concurrency=${CONCURRENCY:-16}
cargo build -q --release -p demo-shop -p click-testkit
work=$(mktemp -d)
server=""
trap 'kill -9 "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
case "$database" in
    sqlite)
        store="sqlite:$work/kill.sqlite3"
        query() { python3 -c "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone()[0])" "$work/kill.sqlite3" "$1"; } ;;
    postgres)
        url=${CLICK_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
        psql "$url" -qc "DROP SCHEMA IF EXISTS click_kill CASCADE; CREATE SCHEMA click_kill" 2>/dev/null
        store="$url?options=-csearch_path%3Dclick_kill"
        query() { psql "$url" -tAc "SET search_path = click_kill; $1" | tail -n 1; } ;;
    *) echo "sqlite or postgres" >&2; exit 2 ;;
esac
prefix="kill$(date +%s)-"
seq -f "${prefix}%.0f:1000" 0 $((orders - 1)) > "$work/orders.txt"

start() { # address
    target/release/demo-shop serve --no-worker --store "$store" --addr "$1" --orders-file "$work/orders.txt" >> "$work/server.log" 2>&1 &
    server=$!
    for _ in $(seq 1 100); do [ "$(grep -c '^serving' "$work/server.log")" -ge "$2" ] && return 0; sleep 0.1; done
    echo "the server did not start" >&2; exit 1
}
start 127.0.0.1:0 1
address=$(grep -o '127.0.0.1:[0-9]*' "$work/server.log" | head -n 1)
target/release/click-testkit load --base-url "http://$address" --service-id 101 --secret-key demo-secret-key \
    --orders "$orders" --prefix "$prefix" --concurrency "$concurrency" --duration 300 --resend-for 60 \
    > "$work/load.txt" 2>&1 &
load=$!
for n in $(seq 1 "$kills"); do
    sleep "$kill_after"
    kill -9 "$server"; wait "$server" 2>/dev/null || true
    echo "killed the server (kill -9, $n of $kills)"
    sleep 0.5
    start "$address" $((n + 1))
done
wait "$load" || true
cat "$work/load.txt"
paid=$(sed -n 's/^pairs: *\([0-9]*\) .*/\1/p' "$work/load.txt")
requests=$(sed -n 's/^requests: *\([0-9]*\) .*/\1/p' "$work/load.txt")
confirmed=$(query "SELECT COUNT(*) FROM click_transactions WHERE state = 1")
twice=$(query "SELECT COUNT(*) FROM (SELECT merchant_trans_id FROM click_transactions WHERE state = 1 GROUP BY merchant_trans_id HAVING COUNT(*) > 1) AS doubled")
echo "orders $orders, requests $requests (resends: $((requests - 2 * orders))), paid as Click saw it $paid, confirmed in the database $confirmed, confirmed twice $twice"
if [ "$requests" -le $((2 * orders)) ]; then
    echo "verdict: FAILED, no kill landed mid-run (no resend); raise ORDERS or lower KILL_AFTER" >&2
    exit 1
fi
if [ "$twice" = "0" ] && [ "$paid" = "$confirmed" ] && [ "$paid" = "$orders" ] && grep -q "non-zero answers: none" "$work/load.txt"; then
    echo "verdict: never paid twice, never debited-but-unpaid"
else
    echo "verdict: FAILED" >&2
    exit 1
fi
