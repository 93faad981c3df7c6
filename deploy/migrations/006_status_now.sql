-- 006: the state of a round's tasks on a day that follows their last change
-- is their present state: read it from task rather than from the history.
CREATE OR REPLACE FUNCTION task_status_as_of(p_round text, p_day date)
RETURNS TABLE (task_id text, kind text, item_id text, problem_id text, track text, status text)
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_day >= coalesce((SELECT max(h.effective_on) FROM task_history h WHERE h.round_id = p_round),
                         '-infinity') THEN
        RETURN QUERY SELECT t.task_id, t.kind, t.item_id, t.problem_id, t.track, t.status
                       FROM task t WHERE t.round_id = p_round;
    ELSE
        RETURN QUERY SELECT DISTINCT ON (h.task_id) h.task_id, t.kind, t.item_id, t.problem_id,
                            t.track, h.to_status
                       FROM task_history h JOIN task t USING (round_id, task_id)
                      WHERE h.round_id = p_round AND h.effective_on <= p_day
                      ORDER BY h.task_id, h.effective_on DESC, h.id DESC;
    END IF;
END $$;
