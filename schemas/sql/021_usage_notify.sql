-- 021_usage_notify.sql -- whoever records a delivery (sluice-feed today,
-- any writer of usage_events tomorrow) wakes the ledger's poster: a
-- statement-level trigger sends pg_notify('sluice_usage', '') once per
-- statement that inserted rows, delivered at commit.  sluice-ledger LISTENs
-- on it and still polls (ledger.poll.ms), so a lost notification delays a
-- posting, never loses it.
CREATE FUNCTION usage_events_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted) THEN
        PERFORM pg_notify('sluice_usage', '');
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER usage_events_notify AFTER INSERT ON usage_events
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION usage_events_notify();
