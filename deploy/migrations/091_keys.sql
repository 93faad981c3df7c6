-- 091: who is speaking. Every outside system, and every on-call admin who
-- watches the logs, holds a CURVE key pair; the server knows its public key
-- (rectifyctl key new). intake admits a connection only for a known,
-- unrevoked key (its ZAP handler reads this table at each handshake) and
-- refuses, per message, a key revoked since (it re-reads the table at least
-- every half second). The services' own keys are files (rectifyctl key
-- service): each service pins its peer's public key.
CREATE TABLE api_key (
    key_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_key text NOT NULL UNIQUE CHECK (length(public_key) = 40),  -- Z85
    kind       text NOT NULL CHECK (kind IN ('system', 'oncall')),
    unit       text,  -- a system key posts as this unit, and only as it (not a foreign key:
                      -- a key may be made before its unit's registration has been applied)
    name       text NOT NULL CHECK (name <> ''),  -- 杨浦区 OA; the on-call admin's name
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz,
    CHECK ((kind = 'system') = (unit IS NOT NULL))
);
CREATE INDEX api_key_by_unit ON api_key (unit) WHERE revoked_at IS NULL;

-- The key that authenticated each event: intake stores it, workflow's rows
-- take it from there (the triggers below), so "who did this" names a system.
-- NULL: plain mode (loopback development), or the clock.
ALTER TABLE intake_event ADD COLUMN key_id bigint REFERENCES api_key (key_id);
ALTER TABLE wf_event ADD COLUMN key_id bigint REFERENCES api_key (key_id);
ALTER TABLE task_history ADD COLUMN key_id bigint REFERENCES api_key (key_id);

CREATE FUNCTION take_event_key() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.key_id := (SELECT e.key_id FROM intake_event e WHERE e.event_id = NEW.event_id);
    RETURN NEW;
END $$;
CREATE TRIGGER wf_event_key BEFORE INSERT ON wf_event
    FOR EACH ROW EXECUTE FUNCTION take_event_key();
CREATE TRIGGER task_history_key BEFORE INSERT ON task_history
    FOR EACH ROW EXECUTE FUNCTION take_event_key();

DROP FUNCTION intake_accept(uuid[], text[], text[], bigint[], bytea[], bytea[]);

-- As in 007, with the authenticating key of each event (NULL in plain mode).
CREATE FUNCTION intake_accept(p_ids uuid[], p_units text[], p_types text[],
                              p_sent_ms bigint[], p_payloads bytea[], p_content bytea[],
                              p_keys bigint[])
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
    SELECT next_seq INTO base FROM outbox_counter WHERE dest = 'workflow' FOR UPDATE;
    FOR i IN 1 .. n LOOP
        d := sha256(p_content[i]);
        INSERT INTO intake_event (event_id, unit, event_type, sent_at, seq, payload, digest,
                                  key_id)
        VALUES (p_ids[i], p_units[i], p_types[i],
                CASE WHEN p_sent_ms[i] > 0 THEN to_timestamp(p_sent_ms[i] / 1000.0) END,
                base + k, p_payloads[i], d, p_keys[i])
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
            verdict := CASE WHEN stored IS NULL OR stored = d THEN 'duplicate' ELSE 'id_reused' END;
        END IF;
        first_received := seen;
        RETURN NEXT;
    END LOOP;
    UPDATE outbox_counter SET next_seq = base + k WHERE dest = 'workflow';
END $$;

-- Grants: every service's ZAP handler reads the keys (intake: system keys;
-- all three: on-call keys for their log streams); only the owner makes and
-- revokes them. workflow reads which key sent an event; intake reads the
-- outcomes of the events of the asking system's unit.
GRANT SELECT ON api_key TO rectify_intake, rectify_workflow, rectify_notify;
GRANT SELECT (event_id, key_id) ON intake_event TO rectify_workflow;
GRANT SELECT (event_id, outcome, code, message, applied_at) ON wf_event TO rectify_intake;
