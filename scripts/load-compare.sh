#!/usr/bin/env bash
# Side by side, in one run: the ceiling (HTTP + form parsing, constant answer) and the demo shop on
# each store, under the same load from click-testkit, with peak memory. Prints a Markdown table.
# Usage: scripts/load-compare.sh [store...]   (default: memory sqlite postgres mysql; also
# memory-no-metrics, the demo without a metrics recorder)
# Env: CONCURRENCY (32), DURATION seconds (10), ORDERS per run (400000),
#      CLICK_TEST_POSTGRES_URL, CLICK_TEST_MYSQL_URL (their rows skip when unset).
set -euo pipefail
cd "$(dirname "$0")/.."
concurrency=${CONCURRENCY:-32}
duration=${DURATION:-10}
orders=${ORDERS:-400000}
stores=("$@")
[ ${#stores[@]} -gt 0 ] || stores=(memory sqlite postgres mysql)
cargo build -q --release -p demo-shop -p click-testkit
work=$(mktemp -d)
trap 'pkill -f "$work" 2>/dev/null || true; rm -rf "$work"' EXIT
cp target/release/demo-shop "$work/demo-shop"

rss_kib() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }

# run NAME COMMAND...: starts a server, loads it, prints one table row.
run() {
    local name=$1; shift
    local prefix="run$(date +%s%N)-"
    seq -f "${prefix}%.0f:1000" 0 $((orders - 1)) > "$work/orders.txt"
    "$@" > "$work/server.log" 2>&1 &
    local pid=$!
    for _ in $(seq 1 100); do grep -q "^serving" "$work/server.log" && break; sleep 0.2; done
    local base
    base=$(grep -o 'http://[0-9.:]*' "$work/server.log" | head -n 1)
    local idle
    idle=$(rss_kib "$pid" VmRSS)
    target/release/click-testkit load --base-url "$base" --service-id 101 --secret-key demo-secret-key \
        --orders "$orders" --prefix "$prefix" --concurrency "$concurrency" --duration "$duration" \
        > "$work/load.txt" 2>&1 || true
    local peak
    peak=$(rss_kib "$pid" VmHWM)
    kill "$pid"; wait "$pid" 2>/dev/null || true
    local pairs rps lat fails
    pairs=$(sed -n 's/^pairs:.*= \([0-9]*\) pairs\/s/\1/p' "$work/load.txt")
    rps=$(sed -n 's/^requests:.*= \([0-9]*\) requests\/s/\1/p' "$work/load.txt")
    lat=$(sed -n 's/^latency: *//p' "$work/load.txt")
    fails=$(sed -n 's/^non-zero answers: //p' "$work/load.txt")
    [ -n "$ceiling" ] || ceiling=$pairs
    printf '| %s | %s | %s | %s | %s | %s MiB | %s MiB | %s |\n' "$name" "$pairs" "$rps" \
        "$(awk -v p="$pairs" -v c="$ceiling" 'BEGIN { printf "%.0f%%", 100 * p / c }')" "$lat" \
        "$((idle / 1024))" "$((peak / 1024))" "$fails"
}

ceiling=""
echo "load: $concurrency keep-alive connections, $duration s, one Prepare+Complete pair per order; $(nproc) cores shared by server and load"
echo
echo "| server | pairs/s | requests/s | of ceiling | latency | RSS idle | RSS peak | non-zero answers |"
echo "|---|---|---|---|---|---|---|---|"
run ceiling "$work/demo-shop" ceiling --addr 127.0.0.1:0
for store in "${stores[@]}"; do
    case "$store" in
        memory) run "demo, MemoryStore" "$work/demo-shop" serve --no-worker --store memory --addr 127.0.0.1:0 --orders-file "$work/orders.txt" ;;
        # The same without a metrics recorder: what recording the metrics costs.
        memory-no-metrics) run "demo, MemoryStore, no metrics" "$work/demo-shop" serve --no-worker --no-metrics --store memory --addr 127.0.0.1:0 --orders-file "$work/orders.txt" ;;
        sqlite) run "demo, SQLite (WAL)" "$work/demo-shop" serve --no-worker --store "sqlite:$work/load.sqlite3" --addr 127.0.0.1:0 --orders-file "$work/orders.txt" ;;
        postgres) [ -n "${CLICK_TEST_POSTGRES_URL:-}" ] && run "demo, PostgreSQL" "$work/demo-shop" serve --no-worker --store "$CLICK_TEST_POSTGRES_URL" --addr 127.0.0.1:0 --orders-file "$work/orders.txt" ;;
        mysql) [ -n "${CLICK_TEST_MYSQL_URL:-}" ] && run "demo, MariaDB" "$work/demo-shop" serve --no-worker --store "$CLICK_TEST_MYSQL_URL" --addr 127.0.0.1:0 --orders-file "$work/orders.txt" ;;
    esac
done
