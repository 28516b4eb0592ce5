#!/usr/bin/env bash
# Stops PostgreSQL for a few seconds in the middle of a load run against the demo shop. Verdict:
# every answer is 0 or -7 (JSON; never a hang, an HTML page or a crash), no request took longer
# than the pool's acquire timeout allows, the server survives, and payments go through again by
# themselves once the database is back.
# Usage: scripts/db-outage.sh   Env: OUTAGE seconds (5), CLICK_TEST_POSTGRES_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
outage=${OUTAGE:-5}
url=${CLICK_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
cluster=$(ls /etc/postgresql | head -n 1)
cargo build -q --release -p demo-shop -p click-testkit
work=$(mktemp -d)
server=""
trap 'kill "$server" 2>/dev/null || true; pg_ctlcluster --skip-systemctl-redirect "$cluster" main start 2>/dev/null || true; rm -rf "$work"' EXIT
psql "$url" -qc "DROP SCHEMA IF EXISTS click_outage CASCADE; CREATE SCHEMA click_outage" 2>/dev/null
prefix="outage$(date +%s)-"
seq -f "${prefix}%.0f:1000" 0 99999 > "$work/orders.txt"
target/release/demo-shop serve --no-worker --store "$url?options=-csearch_path%3Dclick_outage" --addr 127.0.0.1:0 \
    --orders-file "$work/orders.txt" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do grep -q '^serving' "$work/server.log" && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*' "$work/server.log" | head -n 1)
target/release/click-testkit load --base-url "$base" --service-id 101 --secret-key demo-secret-key \
    --orders 100000 --prefix "$prefix" --concurrency 16 --duration $((outage + 8)) > "$work/load.txt" 2>&1 &
load=$!
sleep 3
echo "stopping PostgreSQL for ${outage}s"
pg_ctlcluster --skip-systemctl-redirect "$cluster" main stop -m fast
sleep "$outage"
pg_ctlcluster --skip-systemctl-redirect "$cluster" main start
echo "PostgreSQL is back"
wait "$load" || true
cat "$work/load.txt"
after=$(target/release/click-testkit pay --prepare-url "$base/click/prepare" --complete-url "$base/click/complete" \
    --service-id 101 --secret-key demo-secret-key --order "${prefix}99999:1000" | tail -n 1)
echo "a payment after the outage: $after"
max=$(sed -n 's/.*max \([0-9.]*\)\(ms\|s\|µs\).*/\1 \2/p' "$work/load.txt")
alive=$(kill -0 "$server" 2>/dev/null && echo yes || echo no)
failures=$(sed -n 's/^non-zero answers: //p' "$work/load.txt")
echo "slowest request: $max; server alive: $alive; non-zero answers: $failures"
only_minus_7=$(echo "$failures" | grep -qE '^\{"-7": [0-9]+\}$|^none$' && echo yes || echo no)
slow=$(echo "$max" | awk '{ print ($2 == "s" && $1 > 7) ? "yes" : "no" }')
if [ "$alive" = yes ] && [ "$only_minus_7" = yes ] && [ "$slow" = no ] && [ "$after" = paid ]; then
    echo "verdict: -7 during the outage, no hang, recovered"
else
    echo "verdict: FAILED" >&2
    exit 1
fi
