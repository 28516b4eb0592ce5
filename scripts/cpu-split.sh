#!/usr/bin/env bash
# Usage: scripts/cpu-split.sh STORE_URL DB_PROCESS_NAME   (e.g. postgres://… postgres; mysql://… mariadbd)
# Run from the repository root after `cargo build --release -p demo-shop -p click-testkit`.
# CPU seconds used by the demo, the load tool and the database during one load run.
set -euo pipefail
store=$1; dbname=$2
work=$(mktemp -d)
prefix="cpu$(date +%s)-"
seq -f "${prefix}%.0f:1000" 0 199999 > "$work/orders.txt"
target/release/demo-shop serve --no-worker --store "$store" --addr 127.0.0.1:0 --orders-file "$work/orders.txt" > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do grep -q '^serving' "$work/server.log" && break; sleep 0.1; done
base=$(grep -o 'http://[0-9.:]*' "$work/server.log" | head -n 1)
ticks() { awk '{ s += $14 + $15 } END { print s + 0 }' $(for p in "$@"; do echo "/proc/$p/stat"; done) 2>/dev/null; }
db_pids() { { pgrep -x "$dbname"; pgrep -f "^postgres:"; } | sort -u | tr '\n' ' '; }
before_server=$(ticks $server); before_db=$(ticks $(db_pids))
target/release/click-testkit load --base-url "$base" --service-id 101 --secret-key demo-secret-key --orders 200000 --prefix "$prefix" --concurrency 32 --duration 10 > "$work/load.txt" &
load=$!
sleep 9.5
load_ticks=$(ticks $load)
wait $load || true
after_server=$(ticks $server); after_db=$(ticks $(db_pids))
hz=$(getconf CLK_TCK)
sed -n 1p "$work/load.txt"
awk -v s=$((after_server - before_server)) -v l=$load_ticks -v d=$((after_db - before_db)) -v hz=$hz 'BEGIN { printf "CPU seconds in 10 s (of 20): demo %.2f, load tool %.2f, database %.2f\n", s / hz, l / hz, d / hz }' 
kill $server; rm -rf "$work"
