-- 007: one bad event never stops the others.
--
-- intake keeps a digest of each event's content (the Envelope without its
-- sent_at_ms, so a client that re-sends with a new clock reading is still a
-- repeat): the same id with other content is refused id_reused, not taken
-- for a duplicate.
ALTER TABLE intake_event ADD COLUMN digest bytea;

DROP FUNCTION intake_accept(uuid[], text[], text[], bigint[], bytea[]);

-- Stores a batch of checked events; returns, for each input position, its
-- verdict: 'accepted' (new, queued to workflow), 'duplicate' (the same
-- content was accepted before) or 'id_reused' (the id was accepted before
-- for other content; nothing stored).
CREATE FUNCTION intake_accept(p_ids uuid[], p_units text[], p_types text[],
                              p_sent_ms bigint[], p_payloads bytea[], p_content bytea[])
RETURNS TABLE (idx int, verdict text, first_received timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    base   bigint;
    k      int := 0;
    n      int := coalesce(array_length(p_ids, 1), 0);
    seen   timestamptz;
    stored bytea;
    d      bytea;
BEGIN
    -- lock the counter first: concurrent intakes serialise here, and each
    -- then sees the other's committed events
    SELECT next_seq INTO base FROM outbox_counter WHERE dest = 'workflow' FOR UPDATE;
    FOR i IN 1 .. n LOOP
        d := sha256(p_content[i]);
        INSERT INTO intake_event (event_id, unit, event_type, sent_at, seq, payload, digest)
        VALUES (p_ids[i], p_units[i], p_types[i],
                CASE WHEN p_sent_ms[i] > 0 THEN to_timestamp(p_sent_ms[i] / 1000.0) END,
                base + k, p_payloads[i], d)
        ON CONFLICT (event_id) DO NOTHING
        RETURNING received_at INTO seen;
        idx := i;
        IF FOUND THEN
            INSERT INTO outbox (dest, seq, event_id, payload)
            VALUES ('workflow', base + k, p_ids[i], p_payloads[i]);
            k := k + 1;
            verdict := 'accepted';
        ELSE
            SELECT e.received_at, e.digest INTO seen, stored
              FROM intake_event e WHERE e.event_id = p_ids[i];
            -- rows stored before digests were kept count as the same content
            verdict := CASE WHEN stored IS NULL OR stored = d THEN 'duplicate' ELSE 'id_reused' END;
        END IF;
        first_received := seen;
        RETURN NEXT;
    END LOOP;
    UPDATE outbox_counter SET next_seq = base + k WHERE dest = 'workflow';
END $$;

-- Events a consumer could not apply after repeated tries (or whose data the
-- database refuses and that have no refusal of their own): held here,
-- visible (rectifyctl dead-events) and requeued by an operator
-- (rectifyctl requeue), while the pipeline goes on past them.
CREATE TABLE dead_event (
    id             bigserial PRIMARY KEY,
    consumer       text   NOT NULL,
    source         text   NOT NULL,
    seq            bigint NOT NULL,
    event_id       uuid   NOT NULL,
    payload        bytea  NOT NULL,
    sqlstate       text   NOT NULL,
    error          text   NOT NULL,
    attempts       int    NOT NULL,
    quarantined_at timestamptz NOT NULL DEFAULT now(),
    requeued_at    timestamptz,
    UNIQUE (consumer, source, seq)
);

-- Sends quarantined events to their consumer again, in their first order,
-- through the outbox they came from (a new sequence number each); p_which is
-- an event id, or '' for all. Returns the events requeued.
CREATE FUNCTION requeue_dead_events(p_which text)
RETURNS TABLE (event_id uuid, consumer text) LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        UPDATE dead_event d SET requeued_at = now()
         WHERE d.requeued_at IS NULL AND (p_which = '' OR d.event_id::text = p_which)
        RETURNING d.consumer, d.seq, d.event_id, d.payload
    LOOP
        PERFORM outbox_put(r.consumer, ARRAY[r.event_id], ARRAY[r.payload]);
        event_id := r.event_id;
        consumer := r.consumer;
        RETURN NEXT;
    END LOOP;
END $$;

-- Leases: which copy of a service is active. The holder renews its lease
-- well before it expires; a standby takes it over only once it has expired
-- (the holder died, or stopped: SIGSTOP, a long pause). Senders send to the
-- endpoint of the holder. Every commit of the holder's work first checks,
-- in its own transaction, that the lease is still its own (the fencing
-- check, with a share lock that makes a takeover wait for that commit), so
-- a holder that wakes up after losing its lease commits nothing.
CREATE TABLE service_lease (
    name       text PRIMARY KEY,   -- 'workflow', 'notify', 'pump:workflow', ...
    holder     text NOT NULL,      -- host:pid:random of the process
    endpoint   text NOT NULL DEFAULT '',
    epoch      bigint NOT NULL DEFAULT 1,   -- counts the hand-overs
    expires_at timestamptz NOT NULL
);
