-- 001: the delivery contract (outbox, inbox), intake's event store, the
-- first lifecycle tables (rounds, feedback problems), notifications.

-- Outbox: what a service has committed to send to the next one. Every
-- destination has one counter row; outbox_put locks it for the rest of the
-- transaction, so sequence numbers have no gaps and follow commit order.
CREATE TABLE outbox_counter (
    dest          text PRIMARY KEY,
    next_seq      bigint NOT NULL DEFAULT 1,
    acked_through bigint NOT NULL DEFAULT 0,   -- receiver applied every seq <= this
    acked_at      timestamptz
);
INSERT INTO outbox_counter (dest) VALUES ('workflow'), ('notify');

CREATE TABLE outbox (
    dest       text   NOT NULL REFERENCES outbox_counter (dest),
    seq        bigint NOT NULL,
    event_id   uuid   NOT NULL,
    payload    bytea  NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dest, seq)
);

CREATE FUNCTION outbox_put(p_dest text, p_event_ids uuid[], p_payloads bytea[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n     int := coalesce(array_length(p_event_ids, 1), 0);
    first bigint;
BEGIN
    UPDATE outbox_counter SET next_seq = next_seq + n
     WHERE dest = p_dest
    RETURNING next_seq - n INTO first;
    IF first IS NULL THEN
        RAISE EXCEPTION 'outbox_put: unknown destination %', p_dest;
    END IF;
    INSERT INTO outbox (dest, seq, event_id, payload)
    SELECT p_dest, first + i - 1, p_event_ids[i], p_payloads[i]
      FROM generate_subscripts(p_event_ids, 1) AS i;
    RETURN first;
END $$;

-- Inbox: how far a consumer has applied a source's sequence. Updated in the
-- same transaction as the effects, so a batch applies once or not at all.
CREATE TABLE inbox_cursor (
    consumer        text   NOT NULL,
    source          text   NOT NULL,
    applied_through bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, source)
);

-- Intake: every accepted event, as received. Never updated, never deleted.
CREATE TABLE intake_event (
    event_id    uuid PRIMARY KEY,
    unit        text NOT NULL,
    event_type  text NOT NULL,
    sent_at     timestamptz,
    received_at timestamptz NOT NULL DEFAULT now(),
    seq         bigint NOT NULL UNIQUE,   -- its place in the outbox to workflow
    payload     bytea NOT NULL
);

-- Stores a batch of checked events; returns, for each input position, whether
-- it was new (then also queued to workflow) or a duplicate of an earlier one.
CREATE FUNCTION intake_accept(p_ids uuid[], p_units text[], p_types text[],
                              p_sent_ms bigint[], p_payloads bytea[])
RETURNS TABLE (idx int, duplicate boolean, first_received timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    base bigint;
    k    int := 0;
    n    int := coalesce(array_length(p_ids, 1), 0);
    seen timestamptz;
BEGIN
    -- lock the counter first: concurrent intakes serialise here, and each
    -- then sees the other's committed events
    SELECT next_seq INTO base FROM outbox_counter WHERE dest = 'workflow' FOR UPDATE;
    FOR i IN 1 .. n LOOP
        INSERT INTO intake_event (event_id, unit, event_type, sent_at, seq, payload)
        VALUES (p_ids[i], p_units[i], p_types[i],
                CASE WHEN p_sent_ms[i] > 0 THEN to_timestamp(p_sent_ms[i] / 1000.0) END,
                base + k, p_payloads[i])
        ON CONFLICT (event_id) DO NOTHING
        RETURNING received_at INTO seen;
        IF FOUND THEN
            INSERT INTO outbox (dest, seq, event_id, payload)
            VALUES ('workflow', base + k, p_ids[i], p_payloads[i]);
            k := k + 1;
            idx := i; duplicate := false; first_received := seen;
        ELSE
            SELECT e.received_at INTO seen FROM intake_event e WHERE e.event_id = p_ids[i];
            idx := i; duplicate := true; first_received := seen;
        END IF;
        RETURN NEXT;
    END LOOP;
    UPDATE outbox_counter SET next_seq = base + k WHERE dest = 'workflow';
END $$;

-- Workflow: the outcome of applying each event (the inbox record by id).
CREATE TABLE wf_event (
    event_id   uuid PRIMARY KEY,
    seq        bigint NOT NULL,
    event_type text NOT NULL,
    unit       text NOT NULL,
    outcome    text NOT NULL CHECK (outcome IN ('applied', 'refused')),
    code       text,
    message    text,
    applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE inspection_round (
    round_id      text PRIMARY KEY,
    group_name    text NOT NULL,
    target_unit   text NOT NULL,
    onsite_from   date,
    onsite_to     date,
    feedback_date date NOT NULL,
    kind          text NOT NULL CHECK (kind IN ('inspection', 'look_back')),
    opened_by     uuid NOT NULL REFERENCES wf_event (event_id) DEFERRABLE INITIALLY DEFERRED,
    opened_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE feedback_problem (
    round_id   text NOT NULL REFERENCES inspection_round (round_id),
    problem_id text NOT NULL,
    aspect     text NOT NULL,
    title      text NOT NULL,
    posted_by  uuid NOT NULL REFERENCES wf_event (event_id) DEFERRABLE INITIALLY DEFERRED,
    posted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (round_id, problem_id)
);

-- Notification: one row per notice, one delivery row per channel and recipient.
CREATE TABLE notification (
    notice_id  uuid PRIMARY KEY,
    event_id   uuid NOT NULL,
    kind       text NOT NULL,
    unit       text NOT NULL,
    subject    text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE delivery (
    notice_id  uuid NOT NULL REFERENCES notification (notice_id),
    channel    text NOT NULL CHECK (channel IN ('log', 'webhook', 'mail')),
    recipient  text NOT NULL,
    status     text NOT NULL DEFAULT 'pending'
               CHECK (status IN ('pending', 'sent', 'dead')),
    attempts   int  NOT NULL DEFAULT 0,
    last_error text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notice_id, channel, recipient)
);
CREATE INDEX delivery_pending ON delivery (updated_at) WHERE status = 'pending';
