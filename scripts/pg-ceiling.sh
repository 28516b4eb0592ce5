#!/usr/bin/env bash
# PostgreSQL against its own limit, in one run on one machine: pgbench running the smallest honest
# pair of transactions a payment needs (an insert answered with its id, in autocommit; then a
# conditional update of that row and an insert into the paid-orders table, in one transaction),
# then the demo shop on PostgreSQL under the HTTP load tool, with as many clients (and
# DB_CONNECTIONS database connections); ROUNDS times, alternating, because a shared
# machine's speed drifts by more than the gaps measured (a checkpoint, a neighbour). Prints each
# round's rates and ratio, then the median ratio; then the database round trips per payment,
# counted as the statements PostgreSQL logs (log_statement = all, for one more instance's
# sessions) over a short run. Where PostgreSQL runs on this machine as user `postgres`, each round
# also prints the CPU time per pair of PostgreSQL (its processes, and the backends that exited,
# which the postmaster collected), of pgbench, of the demo and of the load tool: on a CPU-bound
# machine, that is where the ratio goes.
# BEFORE, the path of another build's demo-shop binary (an earlier commit's, say), adds its run to
# every round, after the current one's, on a schema of its own and with the default pool of 10
# connections (earlier builds take no --db-connections), so that two builds are compared in the
# same run: the machine's state moves one build's ratio by more than most changes do.
# Usage: scripts/pg-ceiling.sh   Env: CLIENTS (32), DB_CONNECTIONS (10), DURATION seconds per
# run (10), ROUNDS (3), ORDERS per round (200000), ROUND_TRIPS (1: count them; 0: skip), BEFORE,
# CLICK_TEST_POSTGRES_URL.
set -euo pipefail
before_binary=${BEFORE:+$(realpath "$BEFORE")}
cd "$(dirname "$0")/.."
url=${CLICK_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
clients=${CLIENTS:-32}
duration=${DURATION:-10}
orders=${ORDERS:-200000}
rounds=${ROUNDS:-3}
connections=${DB_CONNECTIONS:-10}
count_round_trips=${ROUND_TRIPS:-1}
cargo build -q --release -p demo-shop -p click-testkit
work=$(mktemp -d)
demo=""
before_demo=""
logged=""
trap 'kill $demo $before_demo $logged 2>/dev/null || true; rm -rf "$work"' EXIT

psql "$url" -q 2>/dev/null <<'SQL'
DROP SCHEMA IF EXISTS click_pgbench CASCADE;
CREATE SCHEMA click_pgbench;
CREATE TABLE click_pgbench.attempts (
    id BIGSERIAL PRIMARY KEY,
    merchant_trans_id TEXT NOT NULL,
    amount_tiyin BIGINT NOT NULL,
    state SMALLINT NOT NULL DEFAULT 0
);
CREATE TABLE click_pgbench.paid (merchant_trans_id TEXT PRIMARY KEY, id BIGINT NOT NULL);
DROP SCHEMA IF EXISTS click_pg_ceiling CASCADE;
CREATE SCHEMA click_pg_ceiling;
DROP SCHEMA IF EXISTS click_pg_ceiling_before CASCADE;
CREATE SCHEMA click_pg_ceiling_before;
SQL
cat > "$work/pair.sql" <<'SQL'
\set n random(1, 2000000000)
INSERT INTO click_pgbench.attempts (merchant_trans_id, amount_tiyin) VALUES ('order-' || :n, 100000) RETURNING id \gset
BEGIN;
UPDATE click_pgbench.attempts SET state = 1 WHERE id = :id AND state = 0;
INSERT INTO click_pgbench.paid (merchant_trans_id, id) VALUES ('order-' || :id, :id);
COMMIT;
SQL
# CPU time in milliseconds (0 where it cannot be read): PostgreSQL's processes, the backends
# that exited included (the postmaster's collected children, read on both sides of the live
# processes and again until no backend exited in between, so none is counted twice); one
# process; this shell's finished children.
ms_per_tick=$((1000 / $(getconf CLK_TCK)))
ticks() { awk "{print \$$2 + \$$3}" "/proc/$1/stat" 2>/dev/null || echo 0; }
postgres_ms() {
    local postmaster before after live pid
    postmaster=$(pgrep -u postgres -x postgres -o 2>/dev/null || true)
    [ -n "$postmaster" ] || { echo 0; return; }
    for _ in 1 2 3 4 5; do
        before=$(ticks "$postmaster" 16 17)
        live=0
        for pid in $(pgrep -u postgres -x postgres 2>/dev/null || true); do
            live=$((live + $(ticks "$pid" 14 15)))
        done
        after=$(ticks "$postmaster" 16 17)
        [ "$before" = "$after" ] && break
    done
    echo $(((live + after) * ms_per_tick))
}
process_ms() { echo $(($(ticks "$1" 14 15) * ms_per_tick)); }
children_ms() { echo $(($(ticks $$ 16 17) * ms_per_tick)); }

case "$url" in *\?*) join="&" ;; *) join="?" ;; esac
prefix="ceiling$(date +%s)-"
for round in $(seq 1 "$rounds"); do
    seq -f "${prefix}${round}-%.0f:1000" 0 $((orders - 1))
done > "$work/orders.txt"
seq -f "rt-${prefix}%.0f:1000" 0 999 >> "$work/orders.txt"
# Starts a demo: a name for its log, its sessions' options (URL-encoded), the binary, then its
# extra arguments; sets started_pid and started_base, or stops the script with the demo's log.
start_demo() {
    local log="$work/$1.log" options=$2 binary=$3
    shift 3
    "$binary" serve --no-worker --no-metrics "$@" --store "$url${join}options=$options" \
        --addr 127.0.0.1:0 --orders-file "$work/orders.txt" > "$log" 2>&1 &
    started_pid=$!
    for _ in $(seq 1 300); do grep -q "Complete URL" "$log" && break; sleep 0.2; done
    started_base=$(grep -o 'http://[0-9.:]*' "$log" | head -n 1 || true)
    [ -n "$started_base" ] || { echo "the demo did not start:" >&2; cat "$log" >&2; exit 1; }
}
start_demo this "-csearch_path%3Dclick_pg_ceiling" target/release/demo-shop --db-connections "$connections"
demo=$started_pid base=$started_base
if [ -n "$before_binary" ]; then
    start_demo before "-csearch_path%3Dclick_pg_ceiling_before" "$before_binary"
    before_demo=$started_pid before_base=$started_base
fi

# Pays orders through one demo for DURATION seconds, in round $1, against pgbench's rate $2;
# prints its line and CPU split, and appends its ratio to $work/ratios-$3.txt. Reads the
# pgbench run's CPU from the caller.
load_round() {
    local round=$1 pgbench_rate=$2 name=$3 pid=$4 base=$5
    local pg_before demo_before children_before pg_during_demo demo_ms load_ms
    pg_before=$(postgres_ms); demo_before=$(process_ms "$pid"); children_before=$(children_ms)
    target/release/click-testkit load --base-url "$base" --service-id 101 --secret-key demo-secret-key \
        --orders "$orders" --prefix "${prefix}${round}-" --concurrency "$clients" \
        --duration "$duration" > "$work/load.txt" 2>&1 || true
    pg_during_demo=$(($(postgres_ms) - pg_before)); demo_ms=$(($(process_ms "$pid") - demo_before))
    load_ms=$(($(children_ms) - children_before))
    local demo_rate demo_pairs latency failures ratio
    demo_rate=$(sed -n 's/^pairs:.*= \([0-9]*\) pairs\/s/\1/p' "$work/load.txt")
    demo_pairs=$(sed -n 's/^pairs: *\([0-9]*\) .*/\1/p' "$work/load.txt")
    latency=$(sed -n 's/^latency: *//p' "$work/load.txt")
    failures=$(sed -n 's/^non-zero answers: //p' "$work/load.txt")
    ratio=$(python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$demo_rate" "$pgbench_rate")
    echo "$ratio" >> "$work/ratios-$name.txt"
    echo "  $name demo, $clients clients: $demo_rate pairs/s ($latency; non-zero answers: $failures); ratio $ratio"
    if [ "$pg_during_pgbench" -gt 0 ] && [ "${pgbench_pairs:-0}" -gt 0 ] && [ "${demo_pairs:-0}" -gt 0 ]; then
        python3 -c "import sys; p = [float(a) for a in sys.argv[1:]]; print(f'    CPU per pair: pgbench run: PostgreSQL {p[0] / p[2]:.3f} ms, pgbench {p[1] / p[2]:.3f} ms; demo run: PostgreSQL {p[3] / p[6]:.3f} ms, demo {p[4] / p[6]:.3f} ms, load tool {p[5] / p[6]:.3f} ms')" \
            "$pg_during_pgbench" "$pgbench_ms" "$pgbench_pairs" "$pg_during_demo" "$demo_ms" "$load_ms" "$demo_pairs"
    fi
}

for round in $(seq 1 "$rounds"); do
    pg_before=$(postgres_ms); children_before=$(children_ms)
    pgbench -n -M prepared -c "$clients" -j 2 -T "$duration" -f "$work/pair.sql" "$url" > "$work/pgbench.txt" 2>&1
    pg_during_pgbench=$(($(postgres_ms) - pg_before)); pgbench_ms=$(($(children_ms) - children_before))
    pgbench_rate=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/pgbench.txt" | head -n 1)
    pgbench_pairs=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/pgbench.txt")
    echo "round $round: pgbench -M prepared -c $clients -j 2 -T $duration: $pgbench_rate pairs/s" \
        "(this demo: $connections database connections; a BEFORE demo: 10)"
    load_round "$round" "$pgbench_rate" this "$demo" "$base"
    if [ -n "$before_binary" ]; then
        load_round "$round" "$pgbench_rate" before "$before_demo" "$before_base"
    fi
done
for name in this before; do
    [ -f "$work/ratios-$name.txt" ] || continue
    python3 -c "import statistics, sys; print(f'ratio, {sys.argv[2]} demo: {statistics.median(float(l) for l in open(sys.argv[1])):.2f} of pgbench (median of $rounds rounds)')" "$work/ratios-$name.txt" "$name"
done

if [ "$count_round_trips" = "1" ]; then
    # A second instance whose sessions log every statement: each is one round trip (sqlx sends
    # one statement at a time and waits for its answer).
    log=$(ls -t /var/log/postgresql/*.log 2>/dev/null | head -n 1 || true)
    if [ -z "$log" ] || [ ! -r "$log" ]; then
        echo "round trips per payment: not counted (no readable PostgreSQL log under /var/log/postgresql)"
        exit 0
    fi
    paid=200
    start_demo logged "-csearch_path%3Dclick_pg_ceiling%20-clog_statement%3Dall" target/release/demo-shop \
        --db-connections "$connections"
    logged=$started_pid logged_base=$started_base
    sleep 0.5
    before=$(grep -cE "LOG:  (execute|statement)" "$log" || true)
    target/release/click-testkit load --base-url "$logged_base" --service-id 101 --secret-key demo-secret-key \
        --orders "$paid" --prefix "rt-$prefix" --concurrency 1 --duration 60 > "$work/rt.txt" 2>&1 || true
    sleep 0.5
    after=$(grep -cE "LOG:  (execute|statement)" "$log" || true)
    kill "$logged"
    grep -q "non-zero answers: none" "$work/rt.txt" || { echo "the round-trip run failed:" >&2; cat "$work/rt.txt" >&2; exit 1; }
    python3 -c "import sys; print(f'round trips per payment: {(int(sys.argv[2]) - int(sys.argv[1])) / int(sys.argv[3]):.1f} (statements PostgreSQL logged over {sys.argv[3]} payments)')" "$before" "$after" "$paid"
fi
