-- A worker reads the tasks it has just claimed back by their claim token: without an index, that
-- read scanned the whole outbox (a row per fiscalized payment, ever) on every claim. Only a task
-- under a claim has a token, so the index holds the claimed tasks alone.
CREATE INDEX IF NOT EXISTS click_outbox_claim ON click_outbox (claim_token)
    WHERE claim_token IS NOT NULL;
