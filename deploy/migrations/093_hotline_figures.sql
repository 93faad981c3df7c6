-- 093: the hotline's figures. The repeat-complaint register (重复投诉,
-- seed 001: cases written off one by one, 销项) and the monthly table per
-- undertaking unit (每月通报承办单位热线办理情况, seed 004) with its cards.

-- --- how each clock ended ---------------------------------------------------

-- One row per clock of an order whose step was done: on time, or late (it
-- had breached). The monthly table counts these and the breaches.
CREATE TABLE order_clock_result (
    order_id text NOT NULL REFERENCES work_order (order_id),
    clock    text NOT NULL,
    cycle    int NOT NULL,
    unit     text NOT NULL,
    done_at  timestamptz NOT NULL,
    late     boolean NOT NULL,
    PRIMARY KEY (order_id, clock, cycle)
);
CREATE INDEX order_clock_result_by_unit ON order_clock_result (unit, done_at);

-- The step that stops each clock.
CREATE FUNCTION order_clock_of_step(p_step text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_step WHEN 'take' THEN 'take' WHEN 'contact' THEN 'contact'
                       WHEN 'arrive' THEN 'onsite' WHEN 'complete' THEN 'complete'
                       WHEN 'reply' THEN 'reply' END
$$;

CREATE FUNCTION order_result_on_step() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    k text := order_clock_of_step(NEW.action);
    o work_order%ROWTYPE;
BEGIN
    IF NEW.lifecycle <> 'order' OR k IS NULL THEN
        RETURN NEW;
    END IF;
    SELECT * INTO o FROM work_order WHERE order_id = NEW.subject;
    INSERT INTO order_clock_result (order_id, clock, cycle, unit, done_at, late)
    VALUES (o.order_id, k, o.cycle, o.unit, NEW.at,
            EXISTS (SELECT 1 FROM subject_breach b WHERE b.lifecycle = 'order'
                       AND b.subject = o.order_id AND b.clock = k AND b.cycle = o.cycle))
    ON CONFLICT DO NOTHING;
    RETURN NEW;
END $$;
CREATE TRIGGER order_result AFTER INSERT ON subject_history
    FOR EACH ROW EXECUTE FUNCTION order_result_on_step();

-- --- the repeat-complaint register ----------------------------------------

-- Orders that come back: from the same caller (basis 'caller', key: the
-- caller's digest), or about the same place and category (basis 'place',
-- key: the normalised address and the category). A case counts its orders
-- from the first; it enters the register (registered_at) when it reaches
-- repeat_min_orders orders or runs longer than repeat_min_days, gets a
-- responsible unit and follow-ups, and leaves it when supervision writes it
-- off (销项). An order of the same key after that opens a new case.
CREATE TABLE repeat_case (
    case_no        bigserial PRIMARY KEY,
    basis          text NOT NULL CHECK (basis IN ('caller', 'place')),
    key            text NOT NULL,
    category       text NOT NULL,
    first_at       timestamptz NOT NULL,
    last_at        timestamptz NOT NULL,
    orders         int NOT NULL,
    registered_at  timestamptz,
    unit           text REFERENCES unit (code),
    follow_ups     int NOT NULL DEFAULT 0,
    last_follow_up text,
    written_off_at timestamptz,
    written_off_by text,
    write_off_note text,
    CHECK (written_off_at IS NULL OR registered_at IS NOT NULL)
);
CREATE UNIQUE INDEX repeat_case_open ON repeat_case (basis, key) WHERE written_off_at IS NULL;
CREATE INDEX repeat_case_registered ON repeat_case (registered_at) WHERE registered_at IS NOT NULL;

CREATE TABLE repeat_case_order (
    case_no  bigint NOT NULL REFERENCES repeat_case (case_no),
    order_id text NOT NULL REFERENCES work_order (order_id),
    PRIMARY KEY (case_no, order_id)
);

ALTER TABLE work_order ADD COLUMN repeat boolean NOT NULL DEFAULT false;

-- watching (counted, below the thresholds), registered (in the register,
-- no responsible unit yet), assigned, written_off
CREATE FUNCTION repeat_case_status(c repeat_case) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN c.written_off_at IS NOT NULL THEN 'written_off'
                WHEN c.registered_at IS NULL THEN 'watching'
                WHEN c.unit IS NULL THEN 'registered'
                ELSE 'assigned' END
$$;

-- Counts a newly registered order into the cases of its caller and of its
-- place; returns the cases that entered the register with it.
CREATE FUNCTION repeat_count(p_order text, p_min_orders int, p_min_days int)
RETURNS TABLE (case_no bigint, basis text, orders int)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    o  work_order%ROWTYPE;
    b  text;
    k  text;
    c  repeat_case%ROWTYPE;
BEGIN
    SELECT * INTO o FROM work_order WHERE order_id = p_order;
    FOREACH b IN ARRAY ARRAY['caller', 'place'] LOOP
        k := CASE b WHEN 'caller' THEN o.caller_hash ELSE o.address_key || ' / ' || o.category END;
        INSERT INTO repeat_case AS r (basis, key, category, first_at, last_at, orders)
        VALUES (b, k, o.category, o.received_at, o.received_at, 1)
        ON CONFLICT (basis, key) WHERE written_off_at IS NULL
        DO UPDATE SET orders = r.orders + 1,
                      first_at = least(r.first_at, excluded.first_at),
                      last_at = greatest(r.last_at, excluded.last_at)
        RETURNING * INTO c;
        INSERT INTO repeat_case_order (case_no, order_id) VALUES (c.case_no, p_order);
        IF c.orders > 1 THEN
            UPDATE work_order SET repeat = true WHERE order_id = p_order;
        END IF;
        IF c.registered_at IS NULL AND c.orders > 1
           AND (c.orders >= p_min_orders OR c.last_at - c.first_at > make_interval(days => p_min_days)) THEN
            UPDATE repeat_case SET registered_at = o.updated_at WHERE repeat_case.case_no = c.case_no;
            case_no := c.case_no;
            basis := b;
            orders := c.orders;
            RETURN NEXT;
        END IF;
    END LOOP;
END $$;

-- Registers a posted order (order_register, 092) and counts it into its
-- repeat cases (repeat_count): one statement for workflow; returns the cases
-- that entered the register with it.
CREATE FUNCTION order_register_counted(p_order text, p_hotline text, p_received timestamptz,
                                       p_channel text, p_caller text, p_address text,
                                       p_located boolean, p_lat double precision,
                                       p_lon double precision, p_category text, p_body text,
                                       p_urgent boolean, p_event uuid, p_now timestamptz,
                                       p_min_orders int, p_min_days int)
RETURNS TABLE (case_no bigint, basis text, orders int)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM order_register(p_order, p_hotline, p_received, p_channel, p_caller, p_address,
                           p_located, p_lat, p_lon, p_category, p_body, p_urgent, p_event, p_now);
    RETURN QUERY SELECT * FROM repeat_count(p_order, p_min_orders, p_min_days);
END $$;

-- One step of a case (wf_repeats.c checked rights, state and fields), with
-- its history row (lifecycle 'repeat_case').
CREATE FUNCTION repeat_case_step(p_case bigint, p_action text, p_unit text, p_note text,
                                 p_actor text, p_event uuid, p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    c       repeat_case%ROWTYPE;
    from_st text;
    to_st   text;
BEGIN
    SELECT * INTO c FROM repeat_case WHERE case_no = p_case FOR UPDATE;
    from_st := repeat_case_status(c);
    CASE p_action
    WHEN 'assign' THEN
        UPDATE repeat_case SET unit = p_unit WHERE case_no = p_case;
    WHEN 'follow_up' THEN
        UPDATE repeat_case SET follow_ups = follow_ups + 1, last_follow_up = p_note
         WHERE case_no = p_case;
    WHEN 'write_off' THEN
        UPDATE repeat_case SET written_off_at = p_now, written_off_by = p_actor,
               write_off_note = p_note
         WHERE case_no = p_case;
    END CASE;
    SELECT * INTO c FROM repeat_case WHERE case_no = p_case;
    to_st := repeat_case_status(c);
    INSERT INTO subject_history (lifecycle, subject, event_id, actor, action, from_status,
                                 to_status, reason, detail, at)
    VALUES ('repeat_case', p_case::text, p_event, p_actor, p_action, from_st, to_st,
            nullif(p_note, ''), jsonb_strip_nulls(jsonb_build_object('unit', nullif(p_unit, ''))),
            p_now);
END $$;

-- The register's figures at a time: cases in it, written off, the rate.
CREATE FUNCTION repeat_figures(p_at timestamptz)
RETURNS TABLE (cases bigint, written_off bigint, rate numeric)
LANGUAGE sql STABLE AS $$
    SELECT count(*), count(*) FILTER (WHERE written_off_at <= p_at),
           CASE WHEN count(*) = 0 THEN 0
                ELSE round(100.0 * count(*) FILTER (WHERE written_off_at <= p_at) / count(*), 1) END
      FROM repeat_case WHERE registered_at <= p_at
$$;

-- --- the monthly table per undertaking unit ---------------------------------

-- For the month that holds p_month (a day of it, in the calendar's time
-- zone): per undertaking unit, the orders received, each clock's on-time
-- rate (steps done on time against those plus the breaches; a breach counts
-- in the month of its deadline, whenever the clock recorded it), breaches,
-- repeats, closes and satisfaction (satisfied and basically satisfied of
-- the closes), and the card its worst rate earns against the lines
-- (percent: below p_yellow a yellow card, below p_red a red one).
CREATE FUNCTION hotline_month(p_month date, p_yellow int, p_red int)
RETURNS TABLE (unit text, orders bigint, take_rate numeric, contact_rate numeric,
               onsite_rate numeric, complete_rate numeric, reply_rate numeric, breaches bigint,
               repeats bigint, closed bigint, satisfied bigint, satisfaction numeric, card text)
LANGUAGE sql STABLE
-- planned with parameters (workflow's prepared statement), its estimate
-- crosses jit_above_cost, and JIT would compile it for seconds on every call
SET jit = off
AS $$
    WITH span AS (
        SELECT (date_trunc('month', p_month)::timestamp AT TIME ZONE c.tz) AS a,
               ((date_trunc('month', p_month) + interval '1 month')::timestamp AT TIME ZONE c.tz) AS b
          FROM work_calendar c),
    units AS (
        SELECT DISTINCT o.unit FROM work_order o, span s
         WHERE o.unit IS NOT NULL AND o.received_at >= s.a AND o.received_at < s.b
        UNION SELECT DISTINCT r.unit FROM order_clock_result r, span s
         WHERE r.done_at >= s.a AND r.done_at < s.b
        UNION SELECT DISTINCT x.unit FROM subject_breach x, span s
         WHERE x.lifecycle = 'order' AND x.unit IS NOT NULL AND x.due_at >= s.a
           AND x.due_at < s.b),
    per_clock AS (
        SELECT u.unit, k.clock,
               (SELECT count(*) FROM order_clock_result r, span s
                 WHERE r.unit = u.unit AND r.clock = k.clock AND NOT r.late
                   AND r.done_at >= s.a AND r.done_at < s.b) AS on_time,
               (SELECT count(*) FROM subject_breach x, span s
                 WHERE x.lifecycle = 'order' AND x.unit = u.unit AND x.clock = k.clock
                   AND x.due_at >= s.a AND x.due_at < s.b) AS late
          FROM units u,
               unnest(ARRAY['take', 'contact', 'onsite', 'complete', 'reply']) AS k (clock)),
    rates AS (
        SELECT p.unit,
               max(CASE WHEN p.clock = 'take' THEN r END) AS take_rate,
               max(CASE WHEN p.clock = 'contact' THEN r END) AS contact_rate,
               max(CASE WHEN p.clock = 'onsite' THEN r END) AS onsite_rate,
               max(CASE WHEN p.clock = 'complete' THEN r END) AS complete_rate,
               max(CASE WHEN p.clock = 'reply' THEN r END) AS reply_rate,
               sum(p.late) AS breaches
          FROM (SELECT q.*, CASE WHEN q.on_time + q.late = 0 THEN NULL
                                 ELSE round(100.0 * q.on_time / (q.on_time + q.late), 1) END AS r
                  FROM per_clock q) p
         GROUP BY p.unit),
    closes AS (
        SELECT o.unit, count(*) AS closed,
               count(*) FILTER (WHERE h.detail->>'satisfaction' IN ('satisfied', 'basically_satisfied'))
                   AS satisfied
          FROM subject_history h JOIN work_order o ON o.order_id = h.subject, span s
         WHERE h.lifecycle = 'order' AND h.action = 'close' AND h.at >= s.a AND h.at < s.b
         GROUP BY o.unit)
    SELECT u.unit,
           (SELECT count(*) FROM work_order o, span s WHERE o.unit = u.unit
               AND o.received_at >= s.a AND o.received_at < s.b),
           r.take_rate, r.contact_rate, r.onsite_rate, r.complete_rate, r.reply_rate,
           coalesce(r.breaches, 0)::bigint,
           (SELECT count(*) FROM work_order o, span s WHERE o.unit = u.unit AND o.repeat
               AND o.received_at >= s.a AND o.received_at < s.b),
           coalesce(cl.closed, 0), coalesce(cl.satisfied, 0),
           CASE WHEN coalesce(cl.closed, 0) = 0 THEN NULL
                ELSE round(100.0 * cl.satisfied / cl.closed, 1) END,
           CASE WHEN least(r.take_rate, r.contact_rate, r.onsite_rate, r.complete_rate,
                           r.reply_rate, CASE WHEN cl.closed > 0
                                              THEN round(100.0 * cl.satisfied / cl.closed, 1) END)
                     < p_red THEN 'red'
                WHEN least(r.take_rate, r.contact_rate, r.onsite_rate, r.complete_rate,
                           r.reply_rate, CASE WHEN cl.closed > 0
                                              THEN round(100.0 * cl.satisfied / cl.closed, 1) END)
                     < p_yellow THEN 'yellow'
                ELSE '' END
      FROM units u LEFT JOIN rates r ON r.unit = u.unit LEFT JOIN closes cl ON cl.unit = u.unit
     ORDER BY u.unit
$$;

-- The quarter's figures as seed 001 reports them: orders accepted in the
-- quarter that holds p_day, and in the quarter before.
CREATE FUNCTION hotline_quarter(p_day date)
RETURNS TABLE (quarter text, orders bigint, previous bigint, change_percent numeric)
LANGUAGE sql STABLE AS $$
    WITH q AS (
        SELECT date_trunc('quarter', p_day) AS a, c.tz FROM work_calendar c),
    n AS (
        SELECT (SELECT count(*) FROM work_order o
                 WHERE o.received_at >= (q.a::timestamp AT TIME ZONE q.tz)
                   AND o.received_at < ((q.a + interval '3 months')::timestamp AT TIME ZONE q.tz)) AS cur,
               (SELECT count(*) FROM work_order o
                 WHERE o.received_at >= ((q.a - interval '3 months')::timestamp AT TIME ZONE q.tz)
                   AND o.received_at < (q.a::timestamp AT TIME ZONE q.tz)) AS prev,
               q.a
          FROM q)
    SELECT to_char(n.a, 'YYYY') || '-Q' || to_char(n.a, 'Q'), n.cur, n.prev,
           CASE WHEN n.prev = 0 THEN NULL ELSE round(100.0 * (n.cur - n.prev) / n.prev, 1) END
      FROM n
$$;

GRANT SELECT, INSERT ON order_clock_result, repeat_case_order TO rectify_workflow;
GRANT SELECT, INSERT, UPDATE ON repeat_case TO rectify_workflow;
GRANT USAGE ON SEQUENCE repeat_case_case_no_seq TO rectify_workflow;
