-- A worker reads the tasks it has just claimed back by their claim token: without an index, that
-- read scanned the whole outbox (a row per fiscalized payment, ever) on every claim.
CREATE INDEX click_outbox_claim ON click_outbox (claim_token);
