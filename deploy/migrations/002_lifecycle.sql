-- 002: units and their rights, the rectification hierarchy and lifecycle,
-- the audit trail, institutions and accountability.

-- A unit acts for itself and every unit below it: its path is a prefix of
-- theirs. A supervision office supervises its parent's subtree.
CREATE TABLE unit (
    code          text PRIMARY KEY,
    name          text NOT NULL,
    parent        text REFERENCES unit (code),
    role          text NOT NULL CHECK (role IN ('inspection_office', 'supervision_office',
                                                'unit', 'hotline', 'admin')),
    path          text NOT NULL UNIQUE,   -- '/sh-cgzf/sh-cgzf.office/'
    registered_by uuid,
    registered_at timestamptz NOT NULL DEFAULT now()
);
-- the administrator that registers every other unit
INSERT INTO unit (code, name, role, path) VALUES ('admin', 'Rectify administrator', 'admin', '/admin/');

-- Rectification items (整改事项) and their measures (整改措施) share one
-- lifecycle; a problem's and an aspect's status derive from them.
CREATE TABLE task (
    round_id         text NOT NULL,
    task_id          text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('item', 'measure')),
    problem_id       text NOT NULL,
    item_id          text,                 -- a measure's item
    title            text NOT NULL,
    status           text NOT NULL DEFAULT 'registered'
                     CHECK (status IN ('registered', 'assigned', 'in_progress', 'submitted',
                                       'closed', 'confirmed', 'reopened')),
    lead_leader      text,
    responsible_unit text REFERENCES unit (code),
    deadline         date,
    track            text CHECK (track IN ('fix_now', 'special_campaign', 'long_term')),
    created_by       uuid NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (round_id, task_id),
    FOREIGN KEY (round_id, problem_id) REFERENCES feedback_problem (round_id, problem_id),
    FOREIGN KEY (round_id, item_id) REFERENCES task (round_id, task_id),
    CHECK ((kind = 'item') = (item_id IS NULL))
);
CREATE INDEX task_measures ON task (round_id, item_id) WHERE kind = 'measure';

-- The audit trail: every change of a task, with who, when, why. The task row
-- holds the present; the bulletin for a past date reads this table.
CREATE TABLE task_history (
    id           bigserial PRIMARY KEY,
    round_id     text NOT NULL,
    task_id      text NOT NULL,
    event_id     uuid NOT NULL,
    actor        text NOT NULL,          -- the sending unit
    action       text NOT NULL,
    from_status  text,
    to_status    text NOT NULL,
    reason       text,
    detail       jsonb,
    effective_on date NOT NULL,          -- the business date of the change
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (round_id, task_id) REFERENCES task (round_id, task_id)
);
CREATE INDEX task_history_by_task ON task_history (round_id, task_id, id);
CREATE INDEX task_history_as_of ON task_history (round_id, effective_on, id);

CREATE TABLE progress_report (
    event_id     uuid PRIMARY KEY,
    round_id     text NOT NULL,
    task_id      text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('progress', 'submission')),
    text         text NOT NULL,
    actor        text NOT NULL,
    effective_on date NOT NULL,
    FOREIGN KEY (round_id, task_id) REFERENCES task (round_id, task_id)
);

CREATE TABLE evidence (
    event_id uuid NOT NULL REFERENCES progress_report (event_id),
    position int  NOT NULL,
    title    text NOT NULL,
    sha256   text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    uri      text NOT NULL,
    PRIMARY KEY (event_id, position)
);

CREATE TABLE institution (
    round_id       text NOT NULL REFERENCES inspection_round (round_id),
    institution_id text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('new', 'revised', 'planned')),
    title          text NOT NULL,
    effective_on   date NOT NULL,
    event_id       uuid NOT NULL,
    actor          text NOT NULL,
    PRIMARY KEY (round_id, institution_id)
);

-- Money is exact: fen (0.01 yuan) in a bigint, never floating point.
CREATE TABLE accountability (
    round_id     text NOT NULL REFERENCES inspection_round (round_id),
    action_id    text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('case_filed', 'disciplinary_sanction',
                                               'admonishment_talk', 'reminder_talk', 'criticism',
                                               'written_self_criticism', 'reassignment')),
    persons      int  NOT NULL CHECK (persons >= 0),
    amount_fen   bigint NOT NULL DEFAULT 0 CHECK (amount_fen >= 0),
    effective_on date NOT NULL,
    event_id     uuid NOT NULL,
    actor        text NOT NULL,
    PRIMARY KEY (round_id, action_id)
);

-- Nothing of the record is ever deleted.
CREATE FUNCTION refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% rows are never deleted', TG_TABLE_NAME;
END $$;
CREATE TRIGGER keep_unit BEFORE DELETE ON unit FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER keep_task BEFORE DELETE ON task FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER keep_task_history BEFORE DELETE OR UPDATE ON task_history
    FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER keep_intake_event BEFORE DELETE ON intake_event FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER keep_wf_event BEFORE DELETE ON wf_event FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER keep_institution BEFORE DELETE ON institution FOR EACH ROW EXECUTE FUNCTION refuse_delete();
CREATE TRIGGER keep_accountability BEFORE DELETE ON accountability FOR EACH ROW EXECUTE FUNCTION refuse_delete();

-- The state of every task of a round on a given day: its last change on or
-- before that day (tasks created later do not exist then).
CREATE FUNCTION task_status_as_of(p_round text, p_day date)
RETURNS TABLE (task_id text, kind text, item_id text, problem_id text, track text, status text)
LANGUAGE sql STABLE AS $$
    SELECT DISTINCT ON (h.task_id) h.task_id, t.kind, t.item_id, t.problem_id, t.track, h.to_status
      FROM task_history h JOIN task t USING (round_id, task_id)
     WHERE h.round_id = p_round AND h.effective_on <= p_day
     ORDER BY h.task_id, h.effective_on DESC, h.id DESC
$$;

-- Whether the sending unit may act for p_unit: a unit for its own subtree, a
-- supervision office for its parent's subtree (everything, if it has none).
CREATE FUNCTION unit_covers(p_sender text, p_unit text) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT starts_with(u.path,
                       CASE WHEN s.role = 'supervision_office'
                            THEN coalesce((SELECT p.path FROM unit p WHERE p.code = s.parent), '/')
                            ELSE s.path END)
      FROM unit u, unit s
     WHERE u.code = p_unit AND s.code = p_sender
$$;
