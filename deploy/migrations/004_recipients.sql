-- 004: who is told what, on which channel; delivery retries and dead letters.

CREATE TABLE recipient (
    id         bigserial PRIMARY KEY,
    unit       text NOT NULL REFERENCES unit (code),
    role       text NOT NULL,            -- within the unit: 'lead', 'duty', 'supervisor', ...
    channel    text NOT NULL CHECK (channel IN ('webhook', 'mail')),
    address    text NOT NULL,            -- an http(s) URL, or a mail address
    kinds      text[],                   -- notice kinds wanted; NULL for all
    active     boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (unit, channel, address)
);
CREATE INDEX recipient_by_unit ON recipient (unit) WHERE active;

ALTER TABLE delivery
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN lease_until     timestamptz,
    ADD COLUMN sent_at         timestamptz;
-- pending deliveries by when they are next due
DROP INDEX delivery_pending;
CREATE INDEX delivery_due ON delivery (next_attempt_at) WHERE status = 'pending';
CREATE INDEX delivery_dead ON delivery (updated_at) WHERE status = 'dead';
