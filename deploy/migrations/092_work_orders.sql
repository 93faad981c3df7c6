-- 092: citizen complaints. Hotline work orders (工单) and their five
-- service-level clocks, and the core's tables for every lifecycle after
-- rectification: one clock table and one history table keyed by
-- (lifecycle, subject). The order lifecycle's states, steps and who may take
-- them are the table in services/workflow/wf_orders.c; what each step writes
-- is order_step() below, one function, called once per event.

-- --- the core: clocks and history of any subject --------------------------

-- One row per step of a clock: a warning before the deadline and the breach
-- at it. Found through the index on due time, claimed FOR UPDATE SKIP
-- LOCKED, marked fired in the transaction that writes its history row and
-- its notice. A held row (held_minutes set) belongs to a paused subject: it
-- is not due until the subject resumes and it is given a due time again.
CREATE TABLE subject_clock (
    id           bigserial PRIMARY KEY,
    lifecycle    text NOT NULL CHECK (lifecycle IN ('order')),
    subject      text NOT NULL,
    clock        text NOT NULL,
    cycle        int NOT NULL,
    step         text NOT NULL CHECK (step IN ('warn', 'breach')),
    due_at       timestamptz NOT NULL,
    held_minutes double precision,
    calendar     boolean NOT NULL,      -- counts working time, not wall time
    unit         text,                  -- whom the step concerns
    detail       text NOT NULL,
    scheduled_by uuid NOT NULL,
    fired_at     timestamptz,
    cancelled_at timestamptz
);
CREATE INDEX subject_clock_due ON subject_clock (due_at, id)
    WHERE fired_at IS NULL AND cancelled_at IS NULL AND held_minutes IS NULL;
CREATE INDEX subject_clock_pending ON subject_clock (lifecycle, subject)
    WHERE fired_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX subject_clock_fired ON subject_clock (lifecycle, subject, clock, cycle, step)
    WHERE fired_at IS NOT NULL;

-- A clock breaches at most once per subject, clock and cycle: the primary
-- key says so, and the breach's history row and notice are written in the
-- transaction that inserts it.
CREATE TABLE subject_breach (
    lifecycle   text NOT NULL,
    subject     text NOT NULL,
    clock       text NOT NULL,
    cycle       int NOT NULL,
    unit        text,                   -- the unit that missed it
    due_at      timestamptz NOT NULL,
    breached_at timestamptz NOT NULL,
    PRIMARY KEY (lifecycle, subject, clock, cycle)
);
CREATE INDEX subject_breach_by_unit ON subject_breach (unit, due_at);

CREATE TABLE subject_history (
    id           bigserial PRIMARY KEY,
    lifecycle    text NOT NULL,
    subject      text NOT NULL,
    event_id     uuid NOT NULL,
    actor        text NOT NULL,         -- the sending unit, or "clock"
    key_id       bigint REFERENCES api_key (key_id),
    action       text NOT NULL,
    from_status  text,
    to_status    text NOT NULL,
    reason       text,
    approver     text,
    detail       jsonb,
    at           timestamptz NOT NULL
);
CREATE INDEX subject_history_of ON subject_history (lifecycle, subject, id);
CREATE TRIGGER subject_history_key BEFORE INSERT ON subject_history
    FOR EACH ROW EXECUTE FUNCTION take_event_key();

-- --- working time ---------------------------------------------------------

-- The working calendar of categories that run on it: working hours on
-- working days, in one time zone; work_holiday overrides a day (a holiday,
-- or a working weekend day, 调休).
CREATE TABLE work_calendar (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    tz       text NOT NULL DEFAULT 'Asia/Shanghai',
    opens    time NOT NULL DEFAULT '09:00',
    closes   time NOT NULL DEFAULT '17:00',
    weekdays int[] NOT NULL DEFAULT '{1,2,3,4,5}',   -- ISO: 1 Monday .. 7 Sunday
    CHECK (opens < closes)
);
INSERT INTO work_calendar DEFAULT VALUES;

CREATE TABLE work_holiday (
    day     date PRIMARY KEY,
    working boolean NOT NULL DEFAULT false,
    note    text NOT NULL DEFAULT ''
);

CREATE FUNCTION work_day_open(p_day date) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT h.working FROM work_holiday h WHERE h.day = p_day),
                    extract(isodow FROM p_day)::int = ANY (c.weekdays))
      FROM work_calendar c
$$;

-- p_minutes after p_from: of wall time, or of working time on the calendar.
CREATE FUNCTION sla_add(p_calendar boolean, p_from timestamptz, p_minutes double precision)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
    c      work_calendar%ROWTYPE;
    local  timestamp;
    d      date;
    s      timestamp;
    e      timestamp;
    left_m double precision := greatest(p_minutes, 0);
BEGIN
    IF NOT p_calendar THEN
        RETURN p_from + make_interval(secs => p_minutes * 60);
    END IF;
    SELECT * INTO c FROM work_calendar;
    local := p_from AT TIME ZONE c.tz;
    d := local::date;
    FOR i IN 1 .. 3660 LOOP
        IF work_day_open(d) THEN
            s := greatest(local, d + c.opens);
            e := d + c.closes;
            IF s < e THEN
                IF left_m <= extract(epoch FROM e - s) / 60 THEN
                    RETURN (s + make_interval(secs => left_m * 60)) AT TIME ZONE c.tz;
                END IF;
                left_m := left_m - extract(epoch FROM e - s) / 60;
            END IF;
        END IF;
        d := d + 1;
        local := d::timestamp;
    END LOOP;
    RAISE EXCEPTION 'work_calendar: no working time within ten years of %', p_from;
END $$;

-- Minutes between p_from and p_to (0 if p_to is earlier): of wall time, or
-- of working time on the calendar.
CREATE FUNCTION sla_between(p_calendar boolean, p_from timestamptz, p_to timestamptz)
RETURNS double precision LANGUAGE plpgsql STABLE AS $$
DECLARE
    c     work_calendar%ROWTYPE;
    a     timestamp;
    b     timestamp;
    d     date;
    total double precision := 0;
BEGIN
    IF p_to <= p_from THEN
        RETURN 0;
    END IF;
    IF NOT p_calendar THEN
        RETURN extract(epoch FROM p_to - p_from) / 60;
    END IF;
    SELECT * INTO c FROM work_calendar;
    a := p_from AT TIME ZONE c.tz;
    b := p_to AT TIME ZONE c.tz;
    d := a::date;
    WHILE d <= b::date LOOP
        IF work_day_open(d) AND least(b, d + c.closes) > greatest(a, d + c.opens) THEN
            total := total + extract(epoch FROM least(b, d + c.closes) - greatest(a, d + c.opens)) / 60;
        END IF;
        d := d + 1;
    END LOOP;
    RETURN total;
END $$;

-- --- work orders ----------------------------------------------------------

-- The service levels: minutes per clock, by category and urgency. The row
-- of category '*' holds for every category without a row of its own; its
-- values are seed 001's norms (take within 20 minutes, first contact within
-- 2 hours, on site within 2 hours of taking, the caller answered within 1
-- hour of completion), with completion in 3 days (1 day when urgent).
-- warn_percent: the warning comes when that share of the time is used.
-- An urgent row always runs on wall time.
CREATE TABLE order_sla (
    category     text NOT NULL,
    urgent       boolean NOT NULL,
    take_min     int NOT NULL CHECK (take_min > 0),
    contact_min  int NOT NULL CHECK (contact_min > 0),
    onsite_min   int NOT NULL CHECK (onsite_min > 0),
    complete_min int NOT NULL CHECK (complete_min > 0),
    reply_min    int NOT NULL CHECK (reply_min > 0),
    warn_percent int NOT NULL DEFAULT 80 CHECK (warn_percent BETWEEN 1 AND 99),
    calendar     boolean NOT NULL DEFAULT false,
    PRIMARY KEY (category, urgent),
    CHECK (NOT (urgent AND calendar))
);
INSERT INTO order_sla (category, urgent, take_min, contact_min, onsite_min, complete_min, reply_min)
VALUES ('*', false, 20, 120, 120, 3 * 24 * 60, 60),
       ('*', true, 20, 120, 120, 24 * 60, 60);

CREATE TABLE work_order (
    order_id      text PRIMARY KEY,
    hotline       text NOT NULL REFERENCES unit (code),   -- the system that posted it
    received_at   timestamptz NOT NULL,
    channel       text NOT NULL CHECK (channel IN ('phone', 'web', 'app')),
    caller_hash   text NOT NULL CHECK (caller_hash ~ '^[0-9a-f]{64}$'),
    address       text NOT NULL,
    address_key   text NOT NULL,        -- normalised, for repeats by place
    latitude      double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude     double precision CHECK (longitude BETWEEN -180 AND 180),
    category      text NOT NULL,
    body          text NOT NULL,
    urgent        boolean NOT NULL,
    status        text NOT NULL DEFAULT 'registered'
                  CHECK (status IN ('registered', 'dispatched', 'taken', 'contacted', 'on_site',
                                    'completed', 'replied', 'closed', 'returned')),
    unit          text REFERENCES unit (code),            -- the undertaking unit
    cycle         int NOT NULL DEFAULT 0,                  -- one per dispatch
    paused_at     timestamptz,
    satisfaction  text CHECK (satisfaction IN ('satisfied', 'basically_satisfied', 'dissatisfied')),
    extended_min  int NOT NULL DEFAULT 0,                  -- in this cycle
    dispatched_at timestamptz,
    closed_at     timestamptz,
    registered_by uuid NOT NULL,
    updated_at    timestamptz NOT NULL,
    CHECK ((latitude IS NULL) = (longitude IS NULL))
);
CREATE INDEX work_order_by_unit ON work_order (unit, status);
CREATE INDEX work_order_by_caller ON work_order (caller_hash, received_at);
CREATE INDEX work_order_by_place ON work_order (address_key, category, received_at);

-- How a person reads an order's state.
CREATE FUNCTION order_status_label(p_status text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_status
           WHEN 'registered' THEN '已登记' WHEN 'dispatched' THEN '已派单'
           WHEN 'taken' THEN '已接单' WHEN 'contacted' THEN '已先行联系'
           WHEN 'on_site' THEN '已到场' WHEN 'completed' THEN '已办结'
           WHEN 'replied' THEN '已回复' WHEN 'closed' THEN '已关闭'
           WHEN 'returned' THEN '已退单' ELSE coalesce(p_status, '') END
$$;

-- An address as repeats compare it: case, white space and punctuation
-- (ASCII and full-width) do not count.
CREATE FUNCTION address_key(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT regexp_replace(lower(p), '[[:space:][:punct:]，。、；：（）《》“”‘’！？－—·]', '', 'g')
$$;

-- The service levels of an order: its category's row, else '*'.
CREATE FUNCTION order_sla_of(p_category text, p_urgent boolean) RETURNS order_sla
LANGUAGE sql STABLE AS $$
    SELECT s.* FROM order_sla s
     WHERE s.urgent = p_urgent AND s.category IN (p_category, '*')
     ORDER BY s.category = '*' LIMIT 1
$$;

-- Schedules one clock of an order: its warning and its breach, p_minutes
-- from p_from. A step that fired already in this cycle is not scheduled
-- again (a reschedule never fires a step twice), nor a breach once
-- breached.
CREATE FUNCTION order_clock_add(p_order text, p_clock text, p_cycle int, p_from timestamptz,
                                p_minutes double precision, p_sla order_sla, p_unit text,
                                p_event uuid, p_now timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_step   text;
    v_due    timestamptz;
    v_detail text;
BEGIN
    FOREACH v_step IN ARRAY ARRAY['warn', 'breach'] LOOP
        IF v_step = 'warn' THEN
            v_due := CASE WHEN p_sla.calendar
                          THEN sla_add(true, p_from, p_minutes * p_sla.warn_percent / 100.0)
                          ELSE p_from + make_interval(secs => p_minutes * p_sla.warn_percent * 0.6)
                     END;
            v_detail := format('%s: %s%% of %s min used', p_clock, p_sla.warn_percent,
                               round(p_minutes::numeric));
            CONTINUE WHEN v_due <= p_now;
        ELSE
            v_due := CASE WHEN p_sla.calendar THEN sla_add(true, p_from, p_minutes)
                          ELSE p_from + make_interval(secs => p_minutes * 60) END;
            v_detail := format('%s: %s min passed', p_clock, round(p_minutes::numeric));
        END IF;
        CONTINUE WHEN EXISTS (SELECT 1 FROM subject_clock k
                               WHERE k.lifecycle = 'order' AND k.subject = p_order
                                 AND k.clock = p_clock AND k.cycle = p_cycle AND k.step = v_step
                                 AND k.fired_at IS NOT NULL);
        CONTINUE WHEN v_step = 'breach' AND EXISTS (
            SELECT 1 FROM subject_breach b WHERE b.lifecycle = 'order' AND b.subject = p_order
               AND b.clock = p_clock AND b.cycle = p_cycle);
        INSERT INTO subject_clock (lifecycle, subject, clock, cycle, step, due_at, calendar, unit,
                                   detail, scheduled_by)
        VALUES ('order', p_order, p_clock, p_cycle, v_step, v_due, p_sla.calendar, p_unit,
                v_detail, p_event);
    END LOOP;
END $$;

CREATE FUNCTION order_clock_stop(p_order text, p_clocks text[], p_now timestamptz)
RETURNS void LANGUAGE sql AS $$
    UPDATE subject_clock SET cancelled_at = p_now
     WHERE lifecycle = 'order' AND subject = p_order AND fired_at IS NULL
       AND cancelled_at IS NULL AND (p_clocks IS NULL OR clock = ANY (p_clocks))
$$;

-- Applies one step the lifecycle table allowed (wf_orders.c checked the
-- state, the rights and the fields): the order's row, its history row, its
-- clocks. Returns the status after the step.
CREATE FUNCTION order_step(p_order text, p_step text, p_event uuid, p_actor text, p_unit text,
                           p_reason text, p_approver text, p_minutes int, p_satisfaction text,
                           p_note text, p_now timestamptz)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    o       work_order%ROWTYPE;
    sla     order_sla;
    from_st text;
    to_st   text;
    held  double precision;
    hist  jsonb := jsonb_strip_nulls(jsonb_build_object('note', nullif(p_note, ''),
                                                        'unit', nullif(p_unit, ''),
                                                        'minutes', nullif(p_minutes, 0),
                                                        'satisfaction', nullif(p_satisfaction, '')));
BEGIN
    SELECT * INTO o FROM work_order WHERE order_id = p_order FOR UPDATE;
    sla := order_sla_of(o.category, o.urgent);
    from_st := o.status;
    to_st := o.status;
    CASE p_step
    WHEN 'dispatch', 'transfer', 'reopen' THEN
        to_st := 'dispatched';
        PERFORM order_clock_stop(p_order, NULL, p_now);
        UPDATE work_order SET status = to_st, unit = coalesce(nullif(p_unit, ''), o.unit),
               cycle = o.cycle + 1, dispatched_at = p_now, extended_min = 0, closed_at = NULL,
               updated_at = p_now
         WHERE order_id = p_order RETURNING * INTO o;
        PERFORM order_clock_add(p_order, 'take', o.cycle, p_now, sla.take_min, sla, o.unit, p_event, p_now);
        PERFORM order_clock_add(p_order, 'contact', o.cycle, p_now, sla.contact_min, sla, o.unit, p_event, p_now);
        PERFORM order_clock_add(p_order, 'complete', o.cycle, p_now, sla.complete_min, sla, o.unit, p_event, p_now);
    WHEN 'take' THEN
        to_st := 'taken';
        PERFORM order_clock_stop(p_order, ARRAY['take'], p_now);
        PERFORM order_clock_add(p_order, 'onsite', o.cycle, p_now, sla.onsite_min, sla, o.unit, p_event, p_now);
    WHEN 'contact' THEN
        to_st := 'contacted';
        PERFORM order_clock_stop(p_order, ARRAY['contact'], p_now);
    WHEN 'arrive' THEN
        to_st := 'on_site';
        PERFORM order_clock_stop(p_order, ARRAY['onsite'], p_now);
    WHEN 'complete' THEN
        to_st := 'completed';
        -- handled without a visit: the on-site clock has nothing left to time
        PERFORM order_clock_stop(p_order, ARRAY['complete', 'onsite'], p_now);
        PERFORM order_clock_add(p_order, 'reply', o.cycle, p_now, sla.reply_min, sla, o.unit, p_event, p_now);
    WHEN 'reply' THEN
        to_st := 'replied';
        PERFORM order_clock_stop(p_order, ARRAY['reply'], p_now);
    WHEN 'close' THEN
        to_st := 'closed';
        UPDATE work_order SET satisfaction = p_satisfaction, closed_at = p_now
         WHERE order_id = p_order;
    WHEN 'return' THEN
        to_st := 'returned';
        PERFORM order_clock_stop(p_order, NULL, p_now);
    WHEN 'pause' THEN
        -- what is left of each pending step, in the clock's own time
        UPDATE subject_clock SET held_minutes = sla_between(calendar, p_now, due_at)
         WHERE lifecycle = 'order' AND subject = p_order AND fired_at IS NULL
           AND cancelled_at IS NULL;
        UPDATE work_order SET paused_at = p_now WHERE order_id = p_order;
        hist := hist || jsonb_build_object('clocks_held', (
            SELECT count(*) FROM subject_clock WHERE lifecycle = 'order' AND subject = p_order
               AND held_minutes IS NOT NULL AND cancelled_at IS NULL AND fired_at IS NULL));
    WHEN 'resume' THEN
        UPDATE subject_clock SET due_at = sla_add(calendar, p_now, held_minutes), held_minutes = NULL
         WHERE lifecycle = 'order' AND subject = p_order AND held_minutes IS NOT NULL
           AND fired_at IS NULL AND cancelled_at IS NULL;
        held := sla_between(sla.calendar, o.paused_at, p_now);
        hist := hist || jsonb_build_object('paused_since', o.paused_at,
                                           'paused_minutes', round(held::numeric, 1));
        UPDATE work_order SET paused_at = NULL WHERE order_id = p_order;
    WHEN 'extend' THEN
        UPDATE subject_clock SET due_at = sla_add(calendar, due_at, p_minutes),
               detail = detail || format(' (extended by %s min)', p_minutes)
         WHERE lifecycle = 'order' AND subject = p_order AND clock = 'complete'
           AND fired_at IS NULL AND cancelled_at IS NULL AND held_minutes IS NULL;
        UPDATE subject_clock SET held_minutes = held_minutes + p_minutes,
               detail = detail || format(' (extended by %s min)', p_minutes)
         WHERE lifecycle = 'order' AND subject = p_order AND clock = 'complete'
           AND fired_at IS NULL AND cancelled_at IS NULL AND held_minutes IS NOT NULL;
        UPDATE work_order SET extended_min = extended_min + p_minutes WHERE order_id = p_order;
    END CASE;
    IF to_st <> o.status THEN
        UPDATE work_order SET status = to_st, updated_at = p_now WHERE order_id = p_order;
    END IF;
    INSERT INTO subject_history (lifecycle, subject, event_id, actor, action, from_status,
                                 to_status, reason, approver, detail, at)
    VALUES ('order', p_order, p_event, p_actor, p_step, from_st, to_st, nullif(p_reason, ''),
            nullif(p_approver, ''), nullif(hist, '{}'::jsonb), p_now);
    IF p_step = 'close' AND p_satisfaction = 'dissatisfied' THEN
        -- back to the same unit, on new clocks
        RETURN order_step(p_order, 'reopen', p_event, p_actor, '', 'the caller is dissatisfied',
                          '', 0, '', '', p_now);
    END IF;
    RETURN to_st;
END $$;

-- Registers a posted order (wf_orders.c checked that the id is new).
CREATE FUNCTION order_register(p_order text, p_hotline text, p_received timestamptz,
                               p_channel text, p_caller text, p_address text, p_located boolean,
                               p_lat double precision, p_lon double precision, p_category text,
                               p_body text, p_urgent boolean, p_event uuid, p_now timestamptz)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO work_order (order_id, hotline, received_at, channel, caller_hash, address,
                            address_key, latitude, longitude, category, body, urgent,
                            registered_by, updated_at)
    VALUES (p_order, p_hotline, p_received, p_channel, p_caller, p_address, address_key(p_address),
            CASE WHEN p_located THEN p_lat END, CASE WHEN p_located THEN p_lon END, p_category,
            p_body, p_urgent, p_event, p_now);
    INSERT INTO subject_history (lifecycle, subject, event_id, actor, action, from_status,
                                 to_status, detail, at)
    VALUES ('order', p_order, p_event, p_hotline, 'register', NULL, 'registered',
            jsonb_build_object('category', p_category, 'urgent', p_urgent,
                               'received_at', p_received), p_now);
$$;

-- The state of a subject of a lifecycle, for the history rows of its clocks.
CREATE FUNCTION subject_status(p_lifecycle text, p_subject text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE p_lifecycle
           WHEN 'order' THEN (SELECT o.status FROM work_order o WHERE o.order_id = p_subject)
           END
$$;

-- Claims the due steps of every lifecycle's clocks, oldest first, and
-- records them: the step is marked fired, a breach is inserted once into
-- subject_breach, and each step that counts gets its history row under an
-- event id of its own. A breach that exists already (recorded is false) is
-- only marked fired. The caller writes the notices in the same transaction.
CREATE FUNCTION subject_clock_claim(p_now timestamptz, p_limit int)
RETURNS TABLE (lifecycle text, subject text, clock text, cycle int, step text, unit text,
               detail text, due_at timestamptz, recorded boolean, event_id uuid)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    WITH due AS (
        SELECT k.id FROM subject_clock k
         WHERE k.fired_at IS NULL AND k.cancelled_at IS NULL AND k.held_minutes IS NULL
           AND k.due_at <= p_now
         ORDER BY k.due_at, k.id LIMIT p_limit FOR UPDATE SKIP LOCKED),
    fired AS (
        UPDATE subject_clock k SET fired_at = p_now FROM due WHERE k.id = due.id
        RETURNING k.*),
    breached AS (
        INSERT INTO subject_breach (lifecycle, subject, clock, cycle, unit, due_at, breached_at)
        SELECT f.lifecycle, f.subject, f.clock, f.cycle, f.unit, f.due_at, p_now
          FROM fired f WHERE f.step = 'breach'
        ON CONFLICT DO NOTHING
        RETURNING subject_breach.lifecycle, subject_breach.subject, subject_breach.clock,
                  subject_breach.cycle),
    steps AS (
        SELECT f.*, gen_random_uuid() AS step_event,
               f.step = 'warn' OR EXISTS (SELECT 1 FROM breached b
                                           WHERE b.lifecycle = f.lifecycle
                                             AND b.subject = f.subject AND b.clock = f.clock
                                             AND b.cycle = f.cycle) AS counts
          FROM fired f),
    history AS (
        INSERT INTO subject_history (lifecycle, subject, event_id, actor, action, from_status,
                                     to_status, detail, at)
        SELECT s.lifecycle, s.subject, s.step_event, 'clock', s.step || '_' || s.clock,
               subject_status(s.lifecycle, s.subject), subject_status(s.lifecycle, s.subject),
               jsonb_build_object('cycle', s.cycle, 'due_at', s.due_at, 'detail', s.detail,
                                  'unit', s.unit),
               p_now
          FROM steps s WHERE s.counts ORDER BY s.due_at, s.id)
    SELECT s.lifecycle, s.subject, s.clock, s.cycle, s.step, s.unit, s.detail, s.due_at,
           s.counts, s.step_event
      FROM steps s ORDER BY s.due_at, s.id;
END $$;

-- --- rights ---------------------------------------------------------------
GRANT SELECT, INSERT, UPDATE ON work_order, subject_clock TO rectify_workflow;
GRANT SELECT, INSERT ON subject_breach, subject_history TO rectify_workflow;
GRANT SELECT ON order_sla, work_calendar, work_holiday TO rectify_workflow;
GRANT USAGE ON SEQUENCE subject_clock_id_seq, subject_history_id_seq TO rectify_workflow;
