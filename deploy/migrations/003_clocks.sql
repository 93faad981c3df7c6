-- 003: clocks as data. Every reminder, overdue mark, escalation step, owed
-- progress report and look-back is a row with its due time, found through
-- an index on due time and fired once (the row is locked and marked fired
-- in the transaction that records its effects).

-- The simulated clock for tests and demos: used only by services started
-- with sim_clock=true. One row at most.
CREATE TABLE sim_clock (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    at       timestamptz NOT NULL
);

CREATE FUNCTION rectify_now(p_sim boolean) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_sim THEN coalesce((SELECT at FROM sim_clock), now()) ELSE now() END
$$;

CREATE TABLE timer (
    id           bigserial PRIMARY KEY,
    round_id     text NOT NULL,
    task_id      text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('reminder', 'overdue', 'yellow_card', 'red_card',
                                               'interview', 'report_due', 'look_back_due')),
    due_at       timestamptz NOT NULL,
    detail       text NOT NULL,
    scheduled_by uuid NOT NULL,          -- the event whose change scheduled it
    fired_at     timestamptz,
    cancelled_at timestamptz,
    FOREIGN KEY (round_id, task_id) REFERENCES task (round_id, task_id)
);
CREATE INDEX timer_due ON timer (due_at, id) WHERE fired_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX timer_by_task ON timer (round_id, task_id);

-- Adds a timer unless the same step (kind and due time) already fired for
-- the task: rescheduling never fires a step twice.
CREATE FUNCTION timer_add(p_round text, p_task text, p_kind text, p_due timestamptz,
                          p_detail text, p_event uuid)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO timer (round_id, task_id, kind, due_at, detail, scheduled_by)
    SELECT p_round, p_task, p_kind, p_due, p_detail, p_event
     WHERE NOT EXISTS (SELECT 1 FROM timer
                        WHERE round_id = p_round AND task_id = p_task AND kind = p_kind
                          AND due_at = p_due AND fired_at IS NOT NULL)
$$;

-- Schedules a task's clocks anew after a change: cancels what is pending and
-- schedules what its state now calls for. A deadline ends at midnight (UTC)
-- after its day. p_ladder: days after that for yellow card, red card, interview.
CREATE FUNCTION timer_reschedule(p_round text, p_task text, p_event uuid, p_now timestamptz,
                                 p_remind_days int[], p_ladder int[], p_report_days int,
                                 p_look_back_days int, p_closed_now boolean)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t    task%ROWTYPE;
    ends timestamptz;
    n    int;
    step text[] := ARRAY['yellow_card', 'red_card', 'interview'];
BEGIN
    UPDATE timer SET cancelled_at = p_now
     WHERE round_id = p_round AND task_id = p_task AND fired_at IS NULL AND cancelled_at IS NULL;
    SELECT * INTO t FROM task WHERE round_id = p_round AND task_id = p_task;
    IF t.status IN ('closed', 'confirmed') THEN
        IF p_closed_now AND p_look_back_days > 0 THEN
            PERFORM timer_add(p_round, p_task, 'look_back_due', p_now + make_interval(days => p_look_back_days),
                    format('look-back due %s days after the write-off', p_look_back_days), p_event);
        END IF;
        RETURN;
    END IF;
    IF t.status NOT IN ('assigned', 'in_progress', 'reopened') OR t.deadline IS NULL THEN
        RETURN;   -- registered: no deadline yet; submitted: the unit has done its part
    END IF;
    ends := (t.deadline + 1)::timestamp AT TIME ZONE 'UTC';
    FOREACH n IN ARRAY p_remind_days LOOP
        IF ends - make_interval(days => n) > p_now THEN
            PERFORM timer_add(p_round, p_task, 'reminder', ends - make_interval(days => n),
                    format('%s day(s) before the deadline %s', n, t.deadline), p_event);
        END IF;
    END LOOP;
    PERFORM timer_add(p_round, p_task, 'overdue', ends, format('deadline %s passed', t.deadline), p_event);
    FOR i IN 1 .. 3 LOOP
        PERFORM timer_add(p_round, p_task, step[i], ends + make_interval(days => p_ladder[i]),
                format('%s day(s) past the deadline %s', p_ladder[i], t.deadline), p_event);
    END LOOP;
    IF t.track = 'long_term' AND t.status IN ('in_progress', 'reopened') AND p_report_days > 0 THEN
        PERFORM timer_add(p_round, p_task, 'report_due', p_now + make_interval(days => p_report_days),
                format('a progress report is owed every %s days', p_report_days), p_event);
    END IF;
END $$;
