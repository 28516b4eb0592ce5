#!/usr/bin/env bash
# The Telegram example in its live mode, against `click-testkit bot-api` in another process,
# driven over the fake's /fake/ routes with curl, as a bot in any language would be tested: the
# customer asks for order-1, presses Pay, Telegram takes the payment and reports it twice; the
# bot must send one invoice, approve the pre-checkout in time, and thank the customer once.
# Usage: scripts/telegram-live.sh   (after `cargo build -p click-testkit -p telegram-shop`)
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
fake="" bot=""
trap 'kill $fake $bot 2>/dev/null || true; rm -rf "$work"' EXIT
token="42:live-mode-test"
target/debug/click-testkit bot-api --addr 127.0.0.1:0 --token "$token" > "$work/fake.log" 2>&1 &
fake=$!
for _ in $(seq 1 100); do grep -q '^http' "$work/fake.log" && break; sleep 0.1; done
api=$(head -n 1 "$work/fake.log")
TELEGRAM_BOT_TOKEN="$token" CLICK_PROVIDER_TOKEN="1:TEST:live" TELEGRAM_API_URL="$api" \
    target/debug/telegram-shop > "$work/bot.log" 2>&1 &
bot=$!
post() { curl -fsS -X POST "$api/fake/$1" -H 'content-type: application/json' -d "$2"; }
state() { curl -fsS "$api/fake/state"; }
# Waits until a Python expression over the fake's state (`s`) holds; prints its value.
wait_for() {
    for _ in $(seq 1 150); do
        value=$(state | python3 -c "import json, sys; s = json.load(sys.stdin); v = $1; print(v if v else '')")
        [ -n "$value" ] && { echo "$value"; return 0; }
        sleep 0.1
    done
    echo "timed out waiting for: $1" >&2; cat "$work/bot.log" >&2; return 1
}
post message '{"user": 7, "text": "/buy order-1"}' > /dev/null
wait_for "s['invoices'] and s['invoices'][0]['total_amount'] == 1500000" > /dev/null
query=$(post press_pay '{"user": 7}' | python3 -c "import json, sys; print(json.load(sys.stdin)['query_id'])")
wait_for "[a for a in s['answers'] if a['query_id'] == '$query' and a['ok'] and not a['late']]" > /dev/null
update=$(post complete_payment "{\"query_id\": \"$query\"}" | python3 -c "import json, sys; print(json.load(sys.stdin)['update_id'])")
post deliver_again "{\"update_id\": $update}" > /dev/null
post message '{"user": 7, "text": "/terms"}' > /dev/null
# The bot handles a chat in order: once /terms is answered, both payment updates were handled.
wait_for "[m for m in s['messages'] if 'CLICK' in m['text']]" > /dev/null
thanks=$(state | python3 -c "import json, sys; print(sum(m['text'].startswith('Paid') for m in json.load(sys.stdin)['messages']))")
[ "$thanks" = "1" ] || { echo "the customer was thanked $thanks times, not once" >&2; exit 1; }
echo "telegram-shop (live mode) against click-testkit bot-api: invoice, pre-checkout in time, paid and thanked once though reported twice"
