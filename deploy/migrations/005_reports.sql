-- 005: the supervision office's reports: the weekly reconciliation per
-- responsible unit (每周梳理对账) and the monthly progress table (每月进度表),
-- printed by rectifyctl and sent to each unit on schedule.

-- Week ending p_end (exclusive), per responsible unit: what moved, what was
-- closed, what is overdue at the end, what escalated during the week.
CREATE FUNCTION report_weekly(p_round text, p_end timestamptz)
RETURNS TABLE (unit text, moved bigint, closed bigint, overdue bigint, escalated bigint)
LANGUAGE sql STABLE AS $$
    WITH t AS (SELECT * FROM task WHERE round_id = p_round AND responsible_unit IS NOT NULL),
         week AS (SELECT h.* FROM task_history h
                   WHERE h.round_id = p_round
                     AND h.effective_on >= (p_end AT TIME ZONE 'UTC')::date - 7
                     AND h.effective_on < (p_end AT TIME ZONE 'UTC')::date)
    SELECT t.responsible_unit,
           count(DISTINCT w.id) FILTER (WHERE w.actor <> 'clock'),
           count(DISTINCT w.id) FILTER (WHERE w.to_status IN ('closed', 'confirmed')
                                          AND w.from_status NOT IN ('closed', 'confirmed')),
           count(DISTINCT t.task_id) FILTER (WHERE t.deadline < (p_end AT TIME ZONE 'UTC')::date
                                               AND t.status NOT IN ('closed', 'confirmed')),
           count(DISTINCT w.id) FILTER (WHERE w.action IN ('yellow_card', 'red_card', 'interview'))
      FROM t LEFT JOIN week w ON w.task_id = t.task_id
     GROUP BY t.responsible_unit ORDER BY t.responsible_unit
$$;

-- The progress table per responsible unit on p_day.
CREATE FUNCTION report_monthly(p_round text, p_day date)
RETURNS TABLE (unit text, items bigint, measures bigint, done bigint, in_progress bigint,
               overdue bigint)
LANGUAGE sql STABLE AS $$
    SELECT t.responsible_unit,
           count(*) FILTER (WHERE s.kind = 'item'),
           count(*) FILTER (WHERE s.kind = 'measure'),
           count(*) FILTER (WHERE s.status IN ('closed', 'confirmed')),
           count(*) FILTER (WHERE s.status IN ('in_progress', 'submitted', 'reopened')),
           count(*) FILTER (WHERE t.deadline < p_day AND s.status NOT IN ('closed', 'confirmed'))
      FROM task_status_as_of(p_round, p_day) s
      JOIN task t ON t.round_id = p_round AND t.task_id = s.task_id
     WHERE t.responsible_unit IS NOT NULL
     GROUP BY t.responsible_unit ORDER BY t.responsible_unit
$$;

-- When each report is next due. Made by workflow from its clock when
-- missing (rectifyctl clock set clears it, so simulated time starts afresh).
CREATE TABLE report_schedule (
    kind   text PRIMARY KEY CHECK (kind IN ('weekly', 'monthly')),
    due_at timestamptz NOT NULL
);
