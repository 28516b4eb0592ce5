#!/usr/bin/env bash
# Several demo-shop instances (separate processes, separate ports) share one database; the load
# tool spreads each payment's Prepare and its concurrent duplicate Completes across them. Then
# SQL checks the verdict: no order confirmed twice, and every payment the load tool saw answered
# 0 is confirmed in the database.
# Usage: scripts/multi-instance.sh postgres|mysql   Env: ORDERS (10000), INSTANCES (3),
# DUPLICATES (4), CONCURRENCY (16), CLICK_TEST_POSTGRES_URL / CLICK_TEST_MYSQL_URL.
set -euo pipefail
cd "$(dirname "$0")/.."
database=${1:?postgres or mysql}
orders=${ORDERS:-10000}
instances=${INSTANCES:-3}
duplicates=${DUPLICATES:-4}
concurrency=${CONCURRENCY:-16}
case "$database" in
    postgres)
        url=${CLICK_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
        psql "$url" -qc "DROP SCHEMA IF EXISTS click_multi CASCADE; CREATE SCHEMA click_multi"
        store="$url?options=-csearch_path%3Dclick_multi"
        query() { psql "$url" -tAc "SET search_path = click_multi; $1" | tail -n 1; } ;;
    mysql)
        url=${CLICK_TEST_MYSQL_URL:-mysql://root@127.0.0.1:3306/test}
        mariadb -h 127.0.0.1 -u root -e "DROP DATABASE IF EXISTS click_multi; CREATE DATABASE click_multi"
        store="${url%/*}/click_multi"
        query() { mariadb -h 127.0.0.1 -u root -N click_multi -e "$1"; } ;;
    *) echo "postgres or mysql" >&2; exit 2 ;;
esac
cargo build -q --release -p demo-shop -p click-testkit
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
prefix="multi$(date +%s)-"
seq -f "${prefix}%.0f:1000" 0 $((orders - 1)) > "$work/orders.txt"
bases=()
for n in $(seq 1 "$instances"); do
    target/release/demo-shop serve --no-worker --store "$store" --addr 127.0.0.1:0 --orders-file "$work/orders.txt" > "$work/instance-$n.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 1 100); do grep -q "^serving" "$work/instance-$n.log" && break; sleep 0.2; done
    bases+=(--base-url "$(grep -o 'http://[0-9.:]*' "$work/instance-$n.log" | head -n 1)")
done
echo "$instances instances over $database: ${bases[*]}"
target/release/click-testkit load "${bases[@]}" --service-id 101 --secret-key demo-secret-key \
    --orders "$orders" --prefix "$prefix" --duplicates "$duplicates" --concurrency "$concurrency" --duration 600 \
    | tee "$work/load.txt" || true
paid=$(sed -n 's/^pairs: *\([0-9]*\) .*/\1/p' "$work/load.txt")
confirmed=$(query "SELECT COUNT(*) FROM click_transactions WHERE state = 1")
twice=$(query "SELECT COUNT(*) FROM (SELECT merchant_trans_id FROM click_transactions WHERE state IN (1, 3, 4) GROUP BY merchant_trans_id HAVING SUM(CASE WHEN state = 1 THEN 1 ELSE 0 END) > 1) AS doubled")
claims=$(query "SELECT COUNT(*) FROM click_paid_orders")
echo "orders $orders, paid per the load tool $paid, confirmed in the database $confirmed, order claims $claims, orders confirmed twice $twice"
if [ "$twice" = "0" ] && [ "$paid" = "$confirmed" ] && [ "$confirmed" = "$claims" ] && [ "$paid" = "$orders" ] && grep -q "non-zero answers: none" "$work/load.txt"; then
    echo "verdict: exactly once"
else
    echo "verdict: FAILED" >&2
    exit 1
fi
