-- 008: the ledger as a district uses it: the rules the ledger and the reports
-- share (when a task is done, when it owes reports), the Chinese labels of
-- tracks and states, cases and recovered funds as figures of their own, and
-- the monthly table counting items and measures apart.

-- A task is done (rectified, written off) when it is closed or confirmed.
CREATE FUNCTION task_done(p_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_status IN ('closed', 'confirmed')
$$;

-- A long-term task owes periodic progress reports while it is worked on;
-- a closed one owes nothing (and timer_reschedule cancels its clocks).
CREATE FUNCTION task_owes_reports(p_status text, p_track text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_track = 'long_term' AND p_status IN ('in_progress', 'reopened')
$$;

-- How a person reads a track, a state, a kind.
CREATE FUNCTION track_label(p_track text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_track WHEN 'fix_now' THEN '立行立改' WHEN 'special_campaign' THEN '专项整治'
                        WHEN 'long_term' THEN '长期推进' ELSE coalesce(p_track, '') END
$$;
CREATE FUNCTION status_label(p_status text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE p_status WHEN 'registered' THEN '已登记' WHEN 'assigned' THEN '已交办'
                         WHEN 'in_progress' THEN '整改中' WHEN 'submitted' THEN '待销号'
                         WHEN 'closed' THEN '已销号' WHEN 'confirmed' THEN '已巩固'
                         WHEN 'reopened' THEN '反弹重启' ELSE coalesce(p_status, '') END
$$;

-- Cases filed (立案) are counted as cases, not persons. Rows recorded before
-- this migration counted their cases in persons.
ALTER TABLE accountability ADD COLUMN cases int NOT NULL DEFAULT 0 CHECK (cases >= 0);
UPDATE accountability SET cases = persons, persons = 0 WHERE kind = 'case_filed';

-- Funds recovered (退出违规钱款): a record of its own, exact in fen.
CREATE TABLE funds_recovered (
    round_id     text NOT NULL REFERENCES inspection_round (round_id),
    record_id    text NOT NULL,
    amount_fen   bigint NOT NULL CHECK (amount_fen > 0),
    note         text NOT NULL DEFAULT '',
    effective_on date NOT NULL,
    event_id     uuid NOT NULL,
    actor        text NOT NULL,
    PRIMARY KEY (round_id, record_id)
);
CREATE TRIGGER keep_funds_recovered BEFORE DELETE ON funds_recovered
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- The monthly progress table: items and measures counted apart.
DROP FUNCTION report_monthly(text, date);
CREATE FUNCTION report_monthly(p_round text, p_day date)
RETURNS TABLE (unit text, items bigint, items_done bigint, items_overdue bigint, measures bigint,
               measures_done bigint, measures_in_progress bigint, measures_overdue bigint)
LANGUAGE sql STABLE AS $$
    SELECT t.responsible_unit,
           count(*) FILTER (WHERE s.kind = 'item'),
           count(*) FILTER (WHERE s.kind = 'item' AND task_done(s.status)),
           count(*) FILTER (WHERE s.kind = 'item' AND t.deadline < p_day AND NOT task_done(s.status)),
           count(*) FILTER (WHERE s.kind = 'measure'),
           count(*) FILTER (WHERE s.kind = 'measure' AND task_done(s.status)),
           count(*) FILTER (WHERE s.kind = 'measure'
                              AND s.status IN ('in_progress', 'submitted', 'reopened')),
           count(*) FILTER (WHERE s.kind = 'measure' AND t.deadline < p_day
                              AND NOT task_done(s.status))
      FROM task_status_as_of(p_round, p_day) s
      JOIN task t ON t.round_id = p_round AND t.task_id = s.task_id
     WHERE t.responsible_unit IS NOT NULL
     GROUP BY t.responsible_unit ORDER BY t.responsible_unit
$$;
